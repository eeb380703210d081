"""From a question (and the chat so far) to a cited Answer."""

from __future__ import annotations

from .extract import extract_answer
from .question import analyse, resolve_follow_up
from .types import Answer


def answer_question(assistant, question: str, history: list[tuple[str, str]], k: int = 5) -> Answer:
    resolved = resolve_follow_up(question, history)
    parsed = analyse(resolved)
    hits = assistant.search(resolved, k=k)
    bm25 = assistant.searcher.bm25
    terms = {t: bm25.idf(t) for t in assistant.query_terms(resolved) if len(t) > 1 or t.isdigit()}
    return extract_answer(parsed, hits, terms)
