"""The Milvus Retriever: the ranking is Milvus's, everything else is the local build's.

Chosen by `--store milvus:PATH` (Milvus Lite) or `--store http://HOST:19530` (Settings.store).
Milvus gives the top passages by meaning (cosine) and by BM25 over the project's jieba tokens
(`sparse.py`), each scored by both; they are fused as the local search fuses them, by z-scores
weighted by the question's language. Milvus's own weighted ranker, in one hybrid request, fell
behind on 334 dev and train questions (hit@5 0.955 against 0.982, MRR 0.888 against 0.906): it
squashes BM25 scores through an arctangent (README, "Milvus").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..index_store import IndexUnusable
from ..language import detect_language
from ..passages import Passage
from .base import Hit, QueryVector
from .bm25 import BM25Index, longest_only
from .hybrid import WEIGHTS, fuse
from .indexed import IndexedPassages
from .milvus_store import MilvusStore
from .sparse import query_vector

if TYPE_CHECKING:
    from pathlib import Path

    from ..index_store import LoadedIndex
    from ..settings import Settings


class MilvusRetriever(IndexedPassages):
    def __init__(self, passages: list[Passage], bm25: BM25Index, store: MilvusStore, cache: Path | None = None,
                 depth: int = 100) -> None:
        super().__init__(passages, bm25, cache)
        self.store = store
        self.depth = depth

    @classmethod
    def from_index(cls, index: LoadedIndex, settings: Settings) -> "MilvusRetriever":
        """The collection the build filled; one that does not hold the index's passages is refused."""
        store = MilvusStore(settings.store)
        if reason := store.problem(len(index.passages)):
            raise IndexUnusable(f"{reason} (cqvet-qa build with this --store brings it in step)")
        return cls(index.passages, index.bm25, store, cache=settings.cache)

    def search(self, query: str, vector: QueryVector, k: int, doc: str | None = None) -> list[Hit]:
        """Top k passages for the query, with the fusion weights of its language."""
        doc_id = self.passages[self.rows_of(doc)[0]].doc_id if doc else None
        sparse = query_vector(longest_only(self.query_terms(query)), self.bm25)
        dense, bm25 = self.store.search(vector(), sparse, max(self.depth, 2 * k), doc_id)
        candidates = [c for c in dense if c in self.position]
        if not candidates:
            return []
        fused = fuse(np.array([dense[c] for c in candidates]), np.array([bm25.get(c, 0.0) for c in candidates]),
                     WEIGHTS[detect_language(query)])
        order = np.argsort(-fused, kind="stable")
        ids = [self.position[candidates[i]] for i in order]
        return self.distinct_hits(ids, dict(zip(ids, fused[order].tolist())), k)
