"""The chat bubbles and the evidence panel (both HTML) of a conversation, in the page's language.

Both are drawn from the turns kept in the browser, so they can be drawn again in the other
language or after a reload. Everything from a user, the corpus or an LLM is escaped text: the
chat renders no Markdown (layout.py), so `![x](http://…)` in a passage or an LLM's answer shows
as those characters and loads nothing; the only links are the [n] links to the evidence.
"""

from __future__ import annotations

import html
import re

from ..inputs import MAX_QUESTION_CHARS
from .texts import TEXTS

PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # bullet glyphs from the PDF's icon fonts: boxes on screen
MARKER = re.compile(r"\[(\d{1,2})\]")
CONFIDENCE_LEVELS = ((0.8, "high"), (0.5, "medium"), (0.0, "low"))


def esc(text) -> str:
    """Escape anything that came from a user or the corpus: it must show as text, never run."""
    return html.escape(PRIVATE_USE.sub("", str(text)), quote=True)


def words(lang: str) -> dict:
    return TEXTS.get(lang, TEXTS["zh"])


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


def cut_note(turn: dict, lang: str) -> str:
    """Why the question was cut, in the page's language (the turn keeps only the original length)."""
    return words(lang)["too_long"].format(n=turn["cut"], max=MAX_QUESTION_CHARS) if turn.get("cut") else ""


def notes(turn: dict, lang: str) -> str:
    return " · ".join(n for n in (cut_note(turn, lang), (turn.get("answer") or {}).get("note", "")) if n)


def page_label(t: dict, page) -> str:
    return t["page"].format(page=page)


def where(t: dict, citation: dict, show_doc: bool) -> str:
    """A citation's place as plain text: (document,) section and page."""
    doc = f"《{citation['doc']}》 " if show_doc and citation.get("doc") else ""
    return f"{doc}{citation['section']} · {page_label(t, citation['page'])}"


def _link(turn_index: int, n: int) -> str:
    return f'<a class="cq-cite" href="#cq-ev-{turn_index}-{n}">[{n}]</a>'


def _confidence(t: dict, answer: dict) -> str:
    """A small label for answers the model is sure or unsure of; the probability itself on hover."""
    p = answer.get("confidence")
    if p is None or not answer.get("answered", True):
        return ""
    level = next(name for floor, name in CONFIDENCE_LEVELS if p >= floor)
    return f' <small class="cq-conf cq-conf-{level}" title="{esc(t["confidence_hint"].format(p=p))}">{esc(t["confidence"][level])}</small>'


def answer_html(turn_index: int, turn: dict, lang: str, show_doc: bool = False) -> str:
    """The chat bubble of an answered turn: the answer, its confidence and its sources, [n] linking to the evidence."""
    t = words(lang)
    answer = turn["answer"]
    cited = len(answer.get("citations") or [])

    def linked(escaped: str) -> str:
        return MARKER.sub(lambda m: _link(turn_index, int(m[1])) if 1 <= int(m[1]) <= cited else m[0], escaped)

    text = answer.get("text") or ("" if answer.get("answered", True) else t["not_found"])
    note = notes(turn, lang)
    lines = [f"<small>{esc(note)}</small>"] if note else []
    lines.append(linked(esc(text)) + _confidence(t, answer))
    if cited:  # declined: the closest passages, each a link to its evidence
        sources = "; ".join(f"{_link(turn_index, n)} {esc(where(t, c, show_doc))}" for n, c in enumerate(answer["citations"], 1))
        lines.append(f"<small>{esc(t['source' if answer.get('answered', True) else 'closest_short'])}{sources}</small>")
    return "".join(f"<p>{line}</p>" for line in lines)


def bubble(turn_index: int, turn: dict, lang: str, show_doc: bool = False) -> str:
    """What the chat shows for a turn: its answer, or its notice (thinking, empty question, error)."""
    if turn.get("answer"):
        return answer_html(turn_index, turn, lang, show_doc)
    return esc(words(lang)[turn.get("notice") or "error"])


def _meta(t: dict, label: str, citation: dict, show_doc: bool) -> str:
    """Where a passage is: its number (cited ones), section, page (and document, when there are several)."""
    line = (f"<b>{esc(label)}</b> " if label else "") + f"{esc(citation['section'])} · " + f'<span class="ev-page">{esc(page_label(t, citation["page"]))}</span>'
    if show_doc and citation.get("doc"):
        line += f"<br>{esc(citation['doc'])}"
    return f'<div class="ev-meta">{line}</div>'


def _cited_card(t: dict, turn_index: int, n: int, citation: dict, hit: dict | None, show_doc: bool) -> str:
    """A cited passage: the supporting sentence marked in its context, and a button to the whole page."""
    excerpt, found = highlight(hit["text"] if hit else citation["quote"], citation["quote"], window=80)
    if not found:
        excerpt = f"<mark>{esc(citation['quote'])}</mark> <span class=\"ev-note\">{esc(t['quote_missing'])}</span>"
    return (
        f'<div class="ev-card ev-cited" id="cq-ev-{turn_index}-{n}">'
        + _meta(t, f"[{n}]", citation, show_doc)
        + f'<p class="ev-excerpt">{excerpt}</p>'
        + f'<button class="ev-open" data-doc="{esc(citation["doc"])}" data-page="{esc(citation["page"])}" '
        f'data-quote="{esc(citation["quote"])}">{esc(t["open_page"])}</button>'
        + "</div>"
    )


HEAD_CHARS = 80


def _other_card(t: dict, hit: dict, show_doc: bool) -> str:
    """A retrieved passage the answer did not cite: its opening, the rest behind a click (nothing shown twice)."""
    text = hit["text"]
    head, rest = text[:HEAD_CHARS], text[HEAD_CHARS:]
    body = f'<details><summary>{esc(head)}<span class="ev-more">…</span></summary><p>{esc(rest)}</p></details>' if rest else f"<p>{esc(head)}</p>"
    return '<div class="ev-card ev-other">' + _meta(t, "", hit, show_doc) + body + "</div>"


def _turn_evidence(t: dict, turn_index: int, turn: dict, lang: str, show_doc: bool) -> str:
    """One turn's evidence: its question, notes, cited passages (numbered as in the bubble), then the others."""
    answer = turn.get("answer")
    parts = []
    if turn.get("question"):
        parts.append(f'<div class="ev-question">{esc(t["for_question"])}{esc(turn["question"])}</div>')
    if not answer:
        return "".join(parts) + f'<p class="ev-empty">{esc(t["evidence_none"])}</p>'
    if answer.get("question") and answer["question"].strip() != (turn.get("question") or "").strip():
        parts.append(f'<div class="ev-question">{esc(t["as_answered"])}{esc(answer["question"])}</div>')
    if note := notes(turn, lang):
        parts.append(f'<div class="ev-note">{esc(note)}</div>')
    answered = answer.get("answered", True)
    if not answered:
        parts.append(f'<p class="ev-empty">{esc(t["not_found"])}</p>')
    hits = answer.get("hits") or []
    by_chunk = {h["chunk_id"]: h for h in hits}
    cited = answer.get("citations") or []
    if cited:
        parts.append(f"<h4>{esc(t['cited'] if answered else t['closest'])}</h4>")
        parts += [_cited_card(t, turn_index, n, c, by_chunk.get(c["chunk_id"]), show_doc) for n, c in enumerate(cited, 1)]
    cited_ids = {c["chunk_id"] for c in cited}
    if others := [h for h in hits if h["chunk_id"] not in cited_ids]:
        parts.append(f"<h4>{esc(t['others'])}</h4>")
        parts += [_other_card(t, h, show_doc) for h in others]
    elif not hits:
        parts.append(f'<p class="ev-empty">{esc(t["no_passages"])}</p>')
    return "".join(parts)


def active_turn(turns: list[dict]) -> int | None:
    """The turn whose evidence shows first: the latest one with an answer."""
    return next((i for i in range(len(turns) - 1, -1, -1) if turns[i].get("answer")), None)


def render_evidence(turns: list[dict] | None, lang: str = "zh", show_doc: bool = False) -> str:
    """The evidence panel: every turn's evidence, the latest answer's shown; clicking a bubble or [n] shows another.

    `data-title` carries the tab title in the page's language (the page's script sets it).
    """
    t = words(lang)
    turns = turns or []
    active = active_turn(turns)
    parts = [f'<div class="ev" data-title="{esc(t["title"])}" data-lang="{esc(lang)}">']
    if active is None:
        parts.append(f'<p class="ev-empty ev-start">{esc(t["evidence_empty"])}</p>')
    for i, turn in enumerate(turns):
        shown = " active" if i == active else ""
        parts.append(f'<section class="ev-turn{shown}" data-turn="{i}">{_turn_evidence(t, i, turn, lang, show_doc)}</section>')
    parts.append(f'<div class="ev-modal" hidden><div class="ev-sheet"><button class="ev-close" aria-label="{esc(t["close"])}">×</button>'
                 '<div class="ev-page-view"></div></div></div></div>')
    return "".join(parts)


def page_view(t: dict, title: str, page, text: str | None, quote: str) -> str:
    """A whole page of a document with the cited sentence marked (or why it cannot be shown)."""
    head = f"<h3>{esc(t['page_title'].format(doc=title, page=page))}</h3>"
    if text is None:
        return head + f'<p class="ev-empty">{esc(t["page_missing"])}</p>'
    return head + f'<div class="pv-text">{highlight(text, quote)[0]}</div>'


_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]()!<>#|~])")


def md_text(text) -> str:
    """Text as Markdown shows it literally: links, images and markup in it are only characters."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", str(text))


def export_markdown(turns: list[dict], lang: str) -> str:
    """The conversation as Markdown: each question, its answer and its citations with section and page.

    What came from users, documents or an LLM is escaped, so a viewer of the file loads nothing.
    """
    t = words(lang)
    out = [f"# {t['title']} — {t['export_title']}", ""]
    for turn in turns:
        answer = turn.get("answer")
        if not answer:
            continue
        text = md_text(answer.get("text") or t["not_found"])
        out += [f"## {t['export_question']}: {md_text(turn['question'])}", "", f"**{t['export_answer']}:** {text}", ""]
        if citations := answer.get("citations"):
            out.append(f"{t['export_citations']}:")
            out += [f"{n}. {md_text(where(t, c, True))}: “{md_text(c['quote'])}”" for n, c in enumerate(citations, 1)]
            out.append("")
    return "\n".join(out)
