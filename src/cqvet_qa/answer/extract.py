"""Extractive answers: the learned ranker picks the sentence, then the span inside it.

Every sentence of the top passages is a candidate. Its features (`features.py`) — closeness to
the question in meaning and in words, the kind of span asked, year, school level, whose figure
it is — are weighed by a logistic model learned from labelled questions (`ranker.py`). The best
candidate's probability is the answer's confidence: below the learned threshold, the answer
says the report does not give it and cites the closest sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..retrieval.hybrid import Hit
from ..sentences import SentenceVectors, embedding_text, split_sentences
from .compose import answer_rows, cite, compose, not_found
from .confidence import confidence_vector
from .features import Candidate, Signals, coverage, measure_missing, vector, wanted_spans
from .question import Question
from .ranker import AnswerModel, Logistic
from .span_features import clause_of, span_vectors
from .spans import Span
from .required import required_terms
from .types import Answer


@dataclass(frozen=True)
class QueryVectors:
    """The question's vector, and for an English question the vector of its Chinese terms.

    The embedding model matches English to Chinese only loosely; the glossary's Chinese for the
    question, embedded as Chinese, meets the report's sentences in their own language (English
    answers right under cross-validation 0.656 -> 0.670 at 6 % wrong, the sentence ranker's best
    English candidate right 0.811 -> 0.818).
    """

    question: np.ndarray
    translated: np.ndarray | None = None


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage as the answerer reads it: whole sentences, and the heading it sits under."""

    hit: Hit
    text: str  # the passage widened to sentence boundaries
    context: str  # section path and heading (a table's title and header)
    table: bool = False  # the passage is table rows
    embed_context: str = ""  # what a table row is embedded with (see sentences.embedding_text)
    before: str = ""  # the passage before it in the same section (a case box runs over several passages)


def candidates(question: Question, evidence: list[Evidence], terms: dict[str, float], sentences: SentenceVectors,
               vectors: QueryVectors, span_model: Logistic) -> list[Candidate]:
    """Each distinct sentence of the evidence once, with its similarity to the question and its best span."""
    found: dict[str, Candidate] = {}
    keys: list[str] = []
    for item in evidence:
        for sentence in split_sentences(item.text):
            if sentence in found:
                continue
            found[sentence] = Candidate(
                sentence=sentence,
                hit=item.hit,
                context=item.context,
                table=item.table,
                case="【案例" in item.hit.section,
                spans=wanted_spans(sentence, question),
                earlier=item.before,
            )
            keys.append(embedding_text(sentence, item.embed_context))
    out = list(found.values())
    translated = sentences.similarity(vectors.translated, keys) if vectors.translated is not None else np.zeros(len(keys))
    for c, sim, term_sim in zip(out, sentences.similarity(vectors.question, keys), translated):
        c.similarity, c.translated_similarity = float(sim), float(term_sim)
        c.span = choose_span(c, question, terms, span_model)
        c.clause = clause_of(c.sentence, c.span) if c.span else ""
    return out


def choose_span(c: Candidate, question: Question, terms: dict[str, float], span_model: Logistic) -> Span | None:
    """The span the span model rates highest; none for a list or two-part question (the sentence answers)."""
    if not c.spans or question.kind in ("list", "compound"):
        return None
    if len(c.spans) == 1:
        return c.spans[0]
    scores = span_model.probabilities(span_vectors(c.sentence, c.spans, question, terms, span_model.features))
    return c.spans[int(np.argmax(scores))]


def signals(question: Question, found: list[Candidate], terms: dict[str, float]) -> Signals:
    key = max(terms, key=terms.get) if question.lang == "zh" and terms else ""
    return Signals(
        question=question,
        terms=terms,
        required=required_terms(question.text, question.lang, terms),
        key=key,
        max_similarity=max((c.similarity for c in found), default=0.0),
        max_translated_similarity=max((c.translated_similarity for c in found), default=0.0),
        max_coverage=max((coverage(f"{c.context} {c.sentence}", terms) for c in found), default=0.0),
    )


@dataclass
class Ranked:
    """The candidates of one question, best first, with their probabilities and the answer's confidence."""

    candidates: list[Candidate]
    probabilities: np.ndarray
    signals: Signals
    confidence: float


def rank(question: Question, evidence: list[Evidence], terms: dict[str, float], sentences: SentenceVectors,
         vectors: QueryVectors, model: AnswerModel) -> Ranked:
    found = candidates(question, evidence, terms, sentences, vectors, model.span)
    sig = signals(question, found, terms)
    probs = model.ranker.probabilities([vector(c, sig, model.ranker.features) for c in found]) if found else np.zeros(0)
    order = np.argsort(-probs, kind="stable")
    ranked, probs = [found[i] for i in order], probs[order]
    confidence = float(model.confidence.probabilities(confidence_vector(probs, ranked, sig, model.confidence.features))[0])
    return Ranked(ranked, probs, sig, confidence)


def measure_unsupported(ranked: Ranked) -> bool:
    """The measure the question asks (辍学率) is named by no candidate: whatever figure stands
    nearby measures something else. Under cross-validation on 831 questions this fires twice
    (one unanswerable, one answerable) and moves no figure, so it is a guarantee, not a tuning."""
    return all(measure_missing(c, ranked.signals) for c in ranked.candidates)


def extract_answer(question: Question, evidence: list[Evidence], terms: dict[str, float], sentences: SentenceVectors,
                   vectors: QueryVectors, model: AnswerModel) -> Answer:
    hits = [item.hit for item in evidence]
    ranked = rank(question, evidence, terms, sentences, vectors, model)
    if not ranked.candidates or ranked.confidence < model.threshold or measure_unsupported(ranked):
        return not_found(question, hits, ranked.candidates)
    best = ranked.candidates[0]
    rows = answer_rows(question, best, ranked.candidates, terms)
    return Answer(text=compose(question, best, best.span, terms, tuple(rows[1:])), answered=True,
                  citations=[cite(r) for r in rows], hits=hits,
                  question=question.text, confidence=round(ranked.confidence, 3))
