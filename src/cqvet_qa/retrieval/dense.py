"""Dense retrieval: normalised passage vectors in FAISS, searched by inner product.

Up to HNSW_THRESHOLD passages the index is exact (IndexFlatIP); from there on it is HNSW, whose
query time stays about flat as the corpus grows. The threshold and HNSW settings come from the
scale run (benchmarks/run.py, numbers in the README): on 2 cores a flat top-100 costs 2.2-2.8 ms
per 10k passages (22-28 ms at 100k), HNSW 1.5-1.9 ms, and flat stays within a 5 ms share of the
30 ms search budget up to about 19-22k passages. At 100k synthetic passages HNSW finds 0.82 of
the flat top-100 and 0.92 of the flat top-10, with hit@5 on the dev set the same as flat; the
shipped report (about 400 passages) stays exact.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_THRESHOLD = 20_000
HNSW_M = 16  # links per node
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 256  # candidates per query: above the hybrid's top-100 depth; saved with the index


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, approximate: bool | None = None) -> "DenseIndex":
        """Exact below HNSW_THRESHOLD passages, HNSW from there on (or as `approximate` says)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if approximate is None:
            approximate = len(vectors) >= HNSW_THRESHOLD
        if approximate:
            index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexHNSW)

    @property
    def size(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k nearest passages."""
        k = min(k, self.size)
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def vectors(self) -> np.ndarray:
        return self.index.reconstruct_n(0, self.size)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        return cls(faiss.read_index(str(path)))
