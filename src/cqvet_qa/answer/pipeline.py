"""From a question (and the chat so far) to a cited Answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..passages import Passage
from ..retrieval.base import Hit
from ..sentences import SentenceVectors, widen
from .extract import Evidence, QueryVectors, Ranked, extract_answer, rank
from .features import Terms
from .parts import in_named_part
from .question import Question, analyse, resolve_follow_up
from .ranker import AnswerModel, shipped_model
from .types import Answer

UNTRANSLATED_WEIGHT = 3.0
# Passages whose sentences are candidates, as in training: 8 measured no better under cross-validation
# (any candidate right 0.944 against 0.941, but 0.694 against 0.693 right at ≤8 % wrong).
EVIDENCE_PASSAGES = 5
# A question naming a table, case or section ("表3-1里…") also reads the best passages of that part
# which the search ranked lower, up to this many, found among the search's first PART_SEARCH_DEPTH.
PART_PASSAGES = 2
PART_SEARCH_DEPTH = 100


@dataclass(frozen=True)
class Reading:
    """What the extractive answer reads, handed over by the assistant (`Assistant.reading`):
    the answer layer depends on these pieces, not on the assistant or one retriever's internals."""

    search: Callable[[str, int, str | None], list[Hit]]  # (question, k, doc) -> top passages
    encode: Callable[[str], np.ndarray]  # question -> its vector
    passages: list[Passage]
    position: dict[str, int]  # chunk id -> index in passages
    has: Callable[[str], bool]  # some passage holds the term
    idf: Callable[[str], float]
    query_terms: Callable[[str], list[str]]  # a question's terms in the report's wording
    alternative_terms: Callable[[str], list[list[str]]]  # terms standing in for one English word
    chinese_rendering: Callable[[str], str]  # an English question's Chinese terms as one text
    untranslated: Callable[[str], list[str]]  # English words the glossary cannot put into Chinese
    sentences: SentenceVectors


def _useful(token: str, reading: Reading) -> bool:
    """Terms that can weigh in a sentence: no single characters, no English the corpus lacks."""
    if len(token) < 2 and not token.isdigit():
        return False
    return not token.isascii() or reading.has(token)


def _weight(token: str, reading: Reading) -> float:
    """IDF, but a word the report never uses (often the asker's phrasing) weighs like a common one."""
    return reading.idf(token) if reading.has(token) else 1.5


def search_with_named_part(reading: Reading, question: str, parsed: Question, k: int, doc: str | None) -> list[Hit]:
    """The search's top k, then the named part's best passages the top k left out."""
    hits = reading.search(question, k, doc)
    if not parsed.parts:
        return hits
    found = {h.chunk_id for h in hits}
    # a search of its own: the fused ranking depends on k (the first 5 of 100 differ from the top 5 for
    # a fifth of the training questions), and the top k stay as every other question gets them
    deeper = [h for h in reading.search(question, PART_SEARCH_DEPTH, doc)
              if h.chunk_id not in found and in_named_part(parsed.parts, h.section)]
    return hits + deeper[:PART_PASSAGES]


def gather(reading: Reading, question: str, history: list[tuple[str, str]], k: int = EVIDENCE_PASSAGES, doc: str | None = None):
    """The completed question, its analysis, weighted terms, query vectors and evidence passages."""
    resolved = resolve_follow_up(question, history)
    parsed = analyse(resolved)
    evidence = []
    for hit in search_with_named_part(reading, resolved, parsed, k, doc):
        i = reading.position[hit.chunk_id]
        passage = reading.passages[i]
        table = passage.kind == "table"
        context = f"{passage.section} {passage.context}"
        previous = reading.passages[i - 1] if i > 0 else None
        same_box = previous is not None and (previous.doc_id, previous.section) == (passage.doc_id, passage.section)
        before = previous.text if same_box else ""
        evidence.append(Evidence(hit, widen(reading.passages, i), context, table=table,
                                 embed_context=passage.context if table else "", before=before))
    weights = {t: _weight(t, reading) for t in reading.query_terms(resolved) if _useful(t, reading)}
    terms = Terms(weights, reading.alternative_terms(resolved))
    rendering = reading.chinese_rendering(resolved)
    vectors = QueryVectors(reading.encode(resolved), reading.encode(rendering) if rendering else None)
    if parsed.lang == "en":  # an English word with no Chinese in the report is a term no sentence holds
        terms.update({f"∅{w}": UNTRANSLATED_WEIGHT for w in reading.untranslated(resolved)})
    return parsed, terms, vectors, evidence


def answer_question(reading: Reading, question: str, history: list[tuple[str, str]], k: int = EVIDENCE_PASSAGES,
                    doc: str | None = None, model: AnswerModel | None = None) -> Answer:
    parsed, terms, vectors, evidence = gather(reading, question, history, k, doc)
    answer = extract_answer(parsed, evidence, terms, reading.sentences, vectors, model or shipped_model())
    return set_citation_pages(reading, answer)


def explain(reading: Reading, question: str, model: AnswerModel | None = None, k: int = EVIDENCE_PASSAGES) -> tuple[Question, Ranked]:
    """The question's candidates, best first, with their probabilities (`cqvet-qa eval --explain`)."""
    parsed, terms, vectors, evidence = gather(reading, question, [], k)
    return parsed, rank(parsed, evidence, terms, reading.sentences, vectors, model or shipped_model())


def set_citation_pages(reading: Reading, answer: Answer) -> Answer:
    """Cite the page the quoted sentence is printed on, not the page its passage starts on."""
    for citation in answer.citations:
        passage = reading.passages[reading.position[citation.chunk_id]]
        offset = passage.text.find(citation.quote[:12])
        citation.page = passage.page_at(offset) if offset >= 0 else passage.page
    return answer
