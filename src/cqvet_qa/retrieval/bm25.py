"""BM25 over jieba tokens (bm25s), saved and loaded as plain files.

bm25s stays inside this module: others ask `has`, `idf`, `vocabulary` and `scores`.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from .tokens import Tokenizer

K1 = 1.2  # term-frequency saturation
B = 0.75  # length normalisation


def longest_only(tokens: list[str]) -> list[str]:
    """A query's tokens without those inside a longer one it holds.

    jieba's search mode cuts 成渝地区双城经济圈 also into 成渝|地区|双城|经济|经济圈, so one
    compound would count six times against a question's other words (活动周的主题). Passages
    keep every part, so each still matches the compound itself.
    """
    return [t for t in tokens if not any(t != other and t in other for other in tokens)]


class BM25Index:
    """`tokenizer` cuts text as the passages were cut (queries must use the same one)."""

    def __init__(self, retriever: bm25s.BM25, tokenizer: Tokenizer) -> None:
        self.retriever = retriever
        self.tokenizer = tokenizer

    @classmethod
    def build(cls, texts: list[str], tokenizer: Tokenizer) -> "BM25Index":
        retriever = bm25s.BM25(k1=K1, b=B)
        corpus_tokens = [tokenizer(t) or [""] for t in texts]
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever, tokenizer)

    def scores(self, query: str | list[str]) -> np.ndarray:
        """BM25 score of every passage for a query (text, or tokens already cut)."""
        tokens = self.tokenizer(query) if isinstance(query, str) else query
        tokens = [t for t in tokens if self.has(t)]
        if not tokens:
            return np.zeros(self._documents, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)

    def has(self, token: str) -> bool:
        """True when some passage holds the token."""
        return token in self.retriever.vocab_dict

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every token of the passages."""
        return frozenset(self.retriever.vocab_dict)

    def idf(self, token: str) -> float:
        """Inverse document frequency; a token the corpus never uses gets the highest."""
        return float(np.log((self._documents + 1) / (self._frequency(token) + 0.5)))

    def scoring_idf(self, token: str) -> float:
        """The IDF bm25s scores with (Lucene's, never negative): a query's weight for the token."""
        df = self._frequency(token)
        return float(np.log(1 + (self._documents - df + 0.5) / (df + 0.5)))

    @property
    def _documents(self) -> int:
        return self.retriever.scores["num_docs"]

    def _frequency(self, token: str) -> int:
        """Passages holding the token."""
        token_id = self.retriever.vocab_dict.get(token)
        indptr = self.retriever.scores["indptr"]
        return 0 if token_id is None or token_id + 1 >= len(indptr) else int(indptr[token_id + 1] - indptr[token_id])

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory))

    @classmethod
    def load(cls, directory: Path, tokenizer: Tokenizer) -> "BM25Index":
        return cls(bm25s.BM25.load(str(directory)), tokenizer)
