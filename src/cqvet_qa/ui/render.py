"""HTML for the evidence panel and Markdown for the chat bubble; everything from a user or the corpus is escaped."""

from __future__ import annotations

import html
import re

from .texts import TEXTS

EVIDENCE_CSS = """
.ev-empty { color: var(--body-text-color-subdued); padding: 8px 0; }
h3 { margin: 4px 0 8px; font-size: 1.05em; }
h4 { margin: 14px 0 6px; font-size: 0.95em; color: var(--body-text-color-subdued); }
.ev-question { font-size: 0.9em; color: var(--body-text-color-subdued); margin-bottom: 8px; }
.ev-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; background: var(--background-fill-secondary); }
.ev-other { border-left-color: var(--border-color-primary); }
.ev-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.ev-meta b { color: var(--body-text-color); }
.ev-page { font-weight: 600; color: var(--color-accent); }
.ev-excerpt { margin: 0 0 6px; line-height: 1.7; }
mark { background: #fde68a; color: #111; padding: 0 2px; border-radius: 3px; }
details summary { cursor: pointer; font-size: 0.85em; color: var(--body-text-color-subdued); }
details p { margin: 6px 0 0; line-height: 1.7; white-space: pre-wrap; }
.ev-note { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""


PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # bullet glyphs from the PDF's icon fonts: boxes on screen


def esc(text) -> str:
    """Escape anything that came from a user or the corpus: it must show as text, never run."""
    return html.escape(PRIVATE_USE.sub("", str(text)), quote=True)


def _locate(text: str, quote: str) -> tuple[int, int] | None:
    """Where the quote sits in the passage; tolerant of stray spaces and private-use glyphs from the PDF."""
    quote = quote.strip()
    if not quote:
        return None
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    core = re.sub(r"[\s\ue000-\uf8ff]+", "", quote)
    if not core:
        return None
    # Match the quote's characters in order, allowing whitespace/private-use between them.
    pattern = r"[\s\ue000-\uf8ff]*".join(re.escape(ch) for ch in core)
    found = re.search(pattern, text)
    return (found.start(), found.end()) if found else None


def highlight(text: str, quote: str, window: int | None = None) -> tuple[str, bool]:
    """Escaped passage with the supporting sentence in <mark>; with `window`, only the context around it."""
    span = _locate(text, quote)
    if span is None:
        shown = text if window is None else text[: 2 * window]
        return esc(shown) + ("…" if len(shown) < len(text) else ""), False
    start, end = span
    lo, hi = (0, len(text)) if window is None else (max(0, start - window), min(len(text), end + window))
    before = ("…" if lo > 0 else "") + esc(text[lo:start])
    after = esc(text[end:hi]) + ("…" if hi < len(text) else "")
    return f"{before}<mark>{esc(text[start:end])}</mark>{after}", True


def _meta(t: dict, number: str, section: str, page, score: float | None, doc: str = "") -> str:
    """One line saying where a passage is: its number, section path, page and retrieval score."""
    parts = [f"<b>{esc(number)}</b> {esc(section)}", f'<span class="ev-page">{esc(t["page"].format(page=page))}</span>']
    if score is not None:
        parts.append(esc(t["score"].format(score=score)))
    line = " · ".join(parts)
    if doc:
        line += f"<br>{esc(doc)}"
    return f'<div class="ev-meta">{line}</div>'


def _cited_card(t: dict, number: int, citation: dict, hit: dict | None) -> str:
    """A cited passage: the supporting sentence marked in context, the whole passage behind <details>."""
    passage = hit["text"] if hit else citation["quote"]
    excerpt, found = highlight(passage, citation["quote"], window=60)
    if not found:
        excerpt = f"<mark>{esc(citation['quote'])}</mark> <span class=\"ev-note\">{esc(t['quote_missing'])}</span>"
    full, _ = highlight(passage, citation["quote"])
    score = hit["score"] if hit else None
    return (
        '<div class="ev-card ev-cited">'
        + _meta(t, f"[{number}]", citation["section"], citation["page"], score, citation.get("doc", ""))
        + f'<p class="ev-excerpt">{excerpt}</p>'
        + f"<details><summary>{esc(t['full'])}</summary><p>{full}</p></details>"
        + "</div>"
    )


def _other_card(t: dict, hit: dict) -> str:
    """A retrieved passage the answer did not cite: short, expandable."""
    text = hit["text"]
    head = esc(text[:90]) + ("…" if len(text) > 90 else "")
    return (
        '<div class="ev-card ev-other">'
        + _meta(t, f"#{hit['rank']}", hit["section"], hit["page"], hit["score"], hit.get("doc", ""))
        + f"<details><summary>{head}</summary><p>{esc(text)}</p></details>"
        + "</div>"
    )


def render_evidence(answer: dict | None, lang: str = "zh", asked: str | None = None) -> str:
    """The evidence panel for the latest answer (a dict from Answer.to_dict), all text escaped.

    The question as answered is shown when it differs from what was asked (a completed follow-up).
    """
    t = TEXTS.get(lang, TEXTS["zh"])
    if not answer:
        return f'<div class="ev"><h3>{esc(t["evidence"])}</h3><p class="ev-empty">{esc(t["evidence_empty"])}</p></div>'
    hits = answer.get("hits") or []
    by_chunk = {h["chunk_id"]: h for h in hits}
    cited = answer.get("citations") or []
    parts = [f'<div class="ev"><h3>{esc(t["evidence"])}</h3>']
    if answer.get("question") and answer["question"].strip() != (asked or "").strip():
        parts.append(f'<div class="ev-question">{esc(t["as_answered"])}{esc(answer["question"])}</div>')
    if answer.get("note"):
        parts.append(f'<div class="ev-note">{esc(answer["note"])}</div>')
    answered = answer.get("answered", True)
    if not answered:
        parts.append(f'<p class="ev-empty">{esc(t["not_found"])}</p>')
    if cited:
        parts.append(f"<h4>{esc(t['cited'] if answered else t['closest'])}</h4>")
        parts += [_cited_card(t, n, c, by_chunk.get(c["chunk_id"])) for n, c in enumerate(cited, start=1)]
    cited_ids = {c["chunk_id"] for c in cited}
    others = [h for h in hits if h["chunk_id"] not in cited_ids]
    if others:
        parts.append(f"<h4>{esc(t['others'])}</h4>")
        parts += [_other_card(t, h) for h in others]
    elif not hits:
        parts.append(f'<p class="ev-empty">{esc(t["no_passages"])}</p>')
    parts.append("</div>")
    return "".join(parts)


def answer_markdown(answer: dict, lang: str, note: str = "", show_doc: bool = False) -> str:
    """The chat bubble: the short answer plus where it comes from, escaped (the Chatbot renders Markdown).

    `note` (e.g. that a long question was cut) is shown above the answer; `show_doc` names each
    source's document (when the index holds more than one).
    """
    t = TEXTS.get(lang, TEXTS["zh"])
    text = answer.get("text") or ""
    if not answer.get("answered", True) and not text:
        text = t["not_found"]
    lines = [f"<small>{esc(note)}</small>"] if note else []
    lines.append(esc(text))
    sources = []
    for n, c in enumerate(answer.get("citations") or [], start=1):
        where = f"《{esc(c['doc'])}》 " if show_doc and c.get("doc") else ""
        sources.append(f"[{n}] {where}{esc(c['section'])} · {esc(t['page'].format(page=c['page']))}")
    if sources and answer.get("answered", True):  # unanswered: the panel shows the closest passages instead
        lines.append(f"<small>{esc(t['source'])}" + "; ".join(sources) + "</small>")
    return "\n\n".join(lines)
