"""From a question (and the chat so far) to a cited Answer."""

from __future__ import annotations

from ..sentences import widen
from .extract import Evidence, Ranked, extract_answer, rank
from .question import Question, analyse, resolve_follow_up
from .ranker import AnswerModel, shipped_model
from .types import Answer

UNTRANSLATED_WEIGHT = 3.0
# Passages whose sentences are candidates, as in training: 8 measured no better under cross-validation
# (any candidate right 0.944 against 0.941, but 0.694 against 0.693 right at ≤8 % wrong).
EVIDENCE_PASSAGES = 5


def _useful(token: str, bm25) -> bool:
    """Terms that can weigh in a sentence: no single characters, no English the corpus lacks."""
    if len(token) < 2 and not token.isdigit():
        return False
    return not token.isascii() or bm25.has(token)


def _weight(token: str, bm25) -> float:
    """IDF, but a word the report never uses (often the asker's phrasing) weighs like a common one."""
    return bm25.idf(token) if bm25.has(token) else 1.5


def gather(assistant, question: str, history: list[tuple[str, str]], k: int = EVIDENCE_PASSAGES, doc: str | None = None):
    """The completed question, its analysis, weighted terms, query vector and evidence passages."""
    resolved = resolve_follow_up(question, history)
    parsed = analyse(resolved)
    hits = assistant.search(resolved, k=k, doc=doc)
    searcher = assistant.searcher
    evidence = []
    for hit in hits:
        i = searcher.position[hit.chunk_id]
        passage = searcher.passages[i]
        table = passage.kind == "table"
        context = f"{passage.section} {passage.context}"
        evidence.append(Evidence(hit, widen(searcher.passages, i), context, table=table, embed_context=passage.context if table else ""))
    bm25 = searcher.bm25
    terms = {t: _weight(t, bm25) for t in assistant.query_terms(resolved) if _useful(t, bm25)}
    if parsed.lang == "en":  # an English word with no Chinese in the report is a term no sentence holds
        terms.update({f"∅{w}": UNTRANSLATED_WEIGHT for w in assistant.translator.untranslated(resolved)})
    return parsed, terms, assistant.embedder.encode_query(resolved), evidence


def answer_question(assistant, question: str, history: list[tuple[str, str]], k: int = EVIDENCE_PASSAGES, doc: str | None = None,
                    model: AnswerModel | None = None) -> Answer:
    parsed, terms, vector, evidence = gather(assistant, question, history, k, doc)
    answer = extract_answer(parsed, evidence, terms, assistant.sentences, vector, model or shipped_model())
    return set_citation_pages(assistant.searcher, answer)


def explain(assistant, question: str, model: AnswerModel | None = None, k: int = EVIDENCE_PASSAGES) -> tuple[Question, Ranked]:
    """The question's candidates, best first, with their probabilities (`cqvet-qa eval --explain`)."""
    parsed, terms, vector, evidence = gather(assistant, question, [], k)
    return parsed, rank(parsed, evidence, terms, assistant.sentences, vector, model or shipped_model())


def set_citation_pages(searcher, answer: Answer) -> Answer:
    """Cite the page the quoted sentence is printed on, not the page its passage starts on."""
    for citation in answer.citations:
        passage = searcher.passages[searcher.position[citation.chunk_id]]
        offset = passage.text.find(citation.quote[:12])
        citation.page = passage.page_at(offset) if offset >= 0 else passage.page
    return answer
