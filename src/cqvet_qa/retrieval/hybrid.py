"""Hybrid search: BM25 and dense scores fused by a weighted sum of z-scores.

Candidates are the top passages of either retriever; each retriever's scores
are standardised over the candidates and mixed with a weight that depends on
the question's language (BM25 over jieba tokens sees only the Chinese terms a
question carries). On the dev set this beat reciprocal-rank fusion, which
lets the weaker dense ranking pull down BM25's exact-term top hits.
A search can be kept to one document: both retrievers then rank only its
passages, so a small document is searched as deeply as a large one.
The query's BM25 terms are in the report's wording (synonyms formalised) and
an English question also gets its Chinese translations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..language import detect_language
from ..passages import Passage
from .base import Hit
from .bm25 import BM25Index, longest_only
from .dense import DenseIndex
from .indexed import IndexedPassages

if TYPE_CHECKING:
    from pathlib import Path

    from ..index_store import LoadedIndex
    from ..settings import Settings


@dataclass(frozen=True)
class FusionWeights:
    """Relative weight of each retriever in the fused score."""

    dense: float
    bm25: float

    @property
    def dense_share(self) -> float:
        return self.dense / (self.dense + self.bm25)


# Chosen on the dev set: BM25 leads for Chinese questions, dense for English ones.
WEIGHTS = {"zh": FusionWeights(dense=0.3, bm25=0.7), "en": FusionWeights(dense=0.4, bm25=0.6)}


def _standardise(scores: np.ndarray) -> np.ndarray:
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 1e-9 else np.zeros_like(scores)


def fuse(dense: np.ndarray, bm25: np.ndarray, weights: FusionWeights) -> np.ndarray:
    """The fused score of each candidate: its two scores standardised over the candidates, weighted."""
    share = weights.dense_share
    return share * _standardise(dense) + (1 - share) * _standardise(bm25)


class HybridRetriever(IndexedPassages):
    """The default Retriever (cqvet_qa.retrieval.base): BM25 and FAISS fused."""

    def __init__(
        self, passages: list[Passage], bm25: BM25Index, dense: DenseIndex, cache: Path | None = None, depth: int = 100
    ) -> None:
        super().__init__(passages, bm25, cache)
        self.dense = dense
        self.vectors = dense.vectors()
        self.depth = depth

    @classmethod
    def from_index(cls, index: LoadedIndex, settings: Settings) -> "HybridRetriever":
        """The BM25 and FAISS indexes the build saved, used as they are."""
        return cls(index.passages, index.bm25, index.dense, cache=settings.cache)

    def search(self, query: str, vector: np.ndarray, k: int, doc: str | None = None) -> list[Hit]:
        """Top k passages for the query, with the fusion weights of its language."""
        terms = longest_only(self.query_terms(query))
        return self.rank(vector, terms, k, WEIGHTS[detect_language(query)], doc=doc)

    def rank(
        self, query_vector: np.ndarray, bm25_query: str | list[str], k: int, weights: FusionWeights, doc: str | None = None
    ) -> list[Hit]:
        """Top k passages of the fused ranking (of document `doc` only, if given), overlapping passages removed."""
        depth = max(self.depth, 2 * k)
        bm25_scores = self.bm25.scores(bm25_query)
        if doc is None:
            _, dense_ids = self.dense.search(query_vector, depth)
        else:
            rows = self.rows_of(doc)
            dense_ids = rows[np.argsort(-(self.vectors[rows] @ query_vector), kind="stable")[:depth]]
            in_doc = np.zeros_like(bm25_scores)
            in_doc[rows] = bm25_scores[rows]
            bm25_scores = in_doc
        bm25_ids = np.argpartition(-bm25_scores, min(depth, len(bm25_scores) - 1))[:depth]
        bm25_ids = bm25_ids[bm25_scores[bm25_ids] > 0]
        candidates = np.union1d(dense_ids, bm25_ids).astype(np.int64)
        if candidates.size == 0:
            return []
        fused = fuse(self.vectors[candidates] @ query_vector, bm25_scores[candidates], weights)
        order = candidates[np.argsort(-fused, kind="stable")]
        return self.distinct_hits(order.tolist(), dict(zip(candidates.tolist(), fused.tolist())), k)
