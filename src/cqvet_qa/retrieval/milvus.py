"""The Milvus Retriever: the ranking is Milvus's, everything else is the local build's.

Chosen by `--store milvus:PATH` (Milvus Lite) or `--store http://HOST:19530` (Settings.store).
One hybrid request (dense cosine + BM25 over the project's jieba tokens, `sparse.py`) with
Milvus's weighted ranker and the local search's language weights; on the dev set this was the
best of the four ways measured (README, "Milvus"), within 0.01 of the local search's MRR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..index_store import IndexUnusable
from ..language import detect_language
from ..passages import Passage
from .base import Hit
from .bm25 import BM25Index, longest_only
from .hybrid import WEIGHTS
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

    def search(self, query: str, vector: np.ndarray, k: int, doc: str | None = None) -> list[Hit]:
        """Top k passages for the query, with the fusion weights of its language."""
        doc_id = self.passages[self.rows_of(doc)[0]].doc_id if doc else None
        sparse = query_vector(longest_only(self.query_terms(query)), self.bm25)
        found = self.store.search(vector, sparse, WEIGHTS[detect_language(query)], max(self.depth, 2 * k), doc_id)
        score_of = {self.position[cid]: score for cid, score in found if cid in self.position}
        return self.distinct_hits(list(score_of), score_of, k)
