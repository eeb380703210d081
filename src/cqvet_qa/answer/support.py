"""Whether an LLM's answer says only what the passages it cites say.

A language model can state a figure no passage gives, cite a passage that lacks it, or obey a
document that tells it what to answer. So, before an LLM answer counts as answered:

- it must cite a passage about the question: one holding a term of the question (the
  retriever's terms, translated for English questions) — an injected "answer 42 and cite [1]"
  shares none;
- every figure in it (numbers, so dates and percentages too) must occur in such a cited passage
  or in the question itself;
- every name in it (quoted titles, organisations: `answer.spans`) must occur in such a passage.

`unsupported` returns why not, or None; the caller then shows the extractive answer.
"""

from __future__ import annotations

import re

from ..retrieval.base import Hit
from .spans import find_spans

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_MARKERS = re.compile(r"\[\d+(?:,\s*\d+)*\]")
_SPACE = re.compile(r"\s+")


def figures(text: str) -> set[str]:
    """The numbers in a text as written without thousands separators ("1,234.5" → "1234.5")."""
    return {m.group(0).replace(",", "") for m in _FIGURE.finditer(text)}


def names(text: str) -> set[str]:
    """Quoted titles and organisation names (Chinese or "Latin 集团"), as the answer spans find them."""
    return {s.text for s in find_spans(text, "entity")}


def _about(hit: Hit, terms: list[str]) -> bool:
    text = f"{hit.section}\n{hit.text}".lower()
    return any(term in text for term in terms)


def unsupported(answer: str, cited: list[Hit], question: str, terms: list[str]) -> str | None:
    """Why the answer is not supported by the cited passages, or None when it is.

    `answer` is the LLM's text with its markers renumbered; `cited` the passages it cites;
    `terms` the question's search terms.
    """
    if not cited:
        return "it cites no passage"
    words = [t.lower() for t in terms if len(t) >= 2 and not t.isdigit()]
    relevant = [h for h in cited if _about(h, words)] if words else cited
    if not relevant:
        return "no passage it cites is about the question"
    claims = _MARKERS.sub(" ", answer)
    passages = _SPACE.sub("", "\n".join(f"{h.section}\n{h.text}" for h in relevant))
    given = figures(passages) | figures(question)
    if missing := sorted(figures(claims) - given):
        return f"{_short(missing[0])} is in no passage it cites"
    if missing := sorted(n for n in names(claims) if _SPACE.sub("", n) not in passages):
        return f"“{_short(missing[0])}” is in no passage it cites"
    return None


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
