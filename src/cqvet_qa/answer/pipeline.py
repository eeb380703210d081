"""From a question (and the chat so far) to a cited Answer."""

from __future__ import annotations

import re

from ..passages import Passage
from .extract import Evidence, extract_answer
from .question import analyse, resolve_follow_up
from .types import Answer

UNTRANSLATED_WEIGHT = 3.0
_SENTENCE_END = re.compile(r"[。！？；\n]")


def _useful(token: str, bm25) -> bool:
    """Terms that can weigh in a sentence: no single characters, no English the corpus lacks."""
    if len(token) < 2 and not token.isdigit():
        return False
    return not token.isascii() or bm25.has(token)


def _weight(token: str, bm25) -> float:
    """IDF, but a word the report never uses (often the asker's phrasing) weighs like a common one."""
    return bm25.idf(token) if bm25.has(token) else 1.5


def widen(passages: list[Passage], i: int) -> str:
    """The passage grown to whole sentences from its overlapping neighbours (all exact document text)."""
    p = passages[i]
    text = p.text
    prev = passages[i - 1] if i > 0 else None
    if prev and prev.doc_id == p.doc_id and prev.start < p.start < prev.end and not _SENTENCE_END.search(prev.text[p.start - prev.start - 1 :][:1]):
        head = prev.text[: p.start - prev.start]
        cut = max((m.end() for m in _SENTENCE_END.finditer(head)), default=0)
        text = head[cut:] + text
    nxt = passages[i + 1] if i + 1 < len(passages) else None
    if nxt and nxt.doc_id == p.doc_id and nxt.start < p.end < nxt.end and not _SENTENCE_END.search(text[-1:]):
        tail = nxt.text[p.end - nxt.start :]
        m = _SENTENCE_END.search(tail)
        text += tail[: m.end()] if m else tail
    return text


def answer_question(assistant, question: str, history: list[tuple[str, str]], k: int = 5, doc: str | None = None) -> Answer:
    resolved = resolve_follow_up(question, history)
    parsed = analyse(resolved)
    hits = assistant.search(resolved, k=k, doc=doc)
    searcher = assistant.searcher
    evidence = []
    for hit in hits:
        i = searcher.position[hit.chunk_id]
        passage = searcher.passages[i]
        context = f"{passage.section} {passage.context}"
        evidence.append(Evidence(hit, widen(searcher.passages, i), context, table=passage.kind == "table"))
    bm25 = searcher.bm25
    terms = {t: _weight(t, bm25) for t in assistant.query_terms(resolved) if _useful(t, bm25)}
    if parsed.lang == "en":  # an English word with no Chinese in the report is a term no sentence holds
        terms.update({f"∅{w}": UNTRANSLATED_WEIGHT for w in assistant.translator.untranslated(resolved)})
    return set_citation_pages(searcher, extract_answer(parsed, evidence, terms))


def set_citation_pages(searcher, answer: Answer) -> Answer:
    """Cite the page the quoted sentence is printed on, not the page its passage starts on."""
    for citation in answer.citations:
        passage = searcher.passages[searcher.position[citation.chunk_id]]
        offset = passage.text.find(citation.quote[:12])
        citation.page = passage.page_at(offset) if offset >= 0 else passage.page
    return answer
