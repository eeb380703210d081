"""From a question (and the chat so far) to a cited Answer."""

from __future__ import annotations

from .extract import extract_answer
from .question import analyse, resolve_follow_up
from .types import Answer


def _useful(token: str, bm25) -> bool:
    """Terms that can weigh in a sentence: no single characters, no English the corpus lacks."""
    if len(token) < 2 and not token.isdigit():
        return False
    return not token.isascii() or token in bm25.retriever.vocab_dict


def _weight(token: str, bm25) -> float:
    """IDF, but a word the report never uses (often the asker's phrasing) weighs like a common one."""
    return bm25.idf(token) if token in bm25.retriever.vocab_dict else 1.5


def answer_question(assistant, question: str, history: list[tuple[str, str]], k: int = 5) -> Answer:
    resolved = resolve_follow_up(question, history)
    parsed = analyse(resolved)
    hits = assistant.search(resolved, k=k)
    bm25 = assistant.searcher.bm25
    terms = {t: _weight(t, bm25) for t in assistant.query_terms(resolved) if _useful(t, bm25)}
    return extract_answer(parsed, hits, terms)
