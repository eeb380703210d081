"""A deterministic stand-in for the embedding model: character 1-2-grams hashed into a normalised vector.

It offers what an index build and a search use of `cqvet_qa.embedding.model.Embedder`
(`info`, `encode_passages`, `encode_sentences`, `encode_query`, `token_count`), so `Assistant.load(embedder=…)`
runs the whole pipeline without loading a model: a build of a tiny corpus takes milliseconds.
Texts that share characters get similar vectors, enough for ranking tests.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from cqvet_qa.embedding.model import ModelInfo


class HashingEmbedder:
    def __init__(self, dim: int = 256, max_tokens: int = 512) -> None:
        self.info = ModelInfo(
            name="hashing", path="", dim=dim, max_seq_length=max_tokens, fingerprint=f"hashing-{dim}", precision="float32"
        )
        self._vectorizer = HashingVectorizer(analyzer="char", ngram_range=(1, 2), n_features=dim, norm="l2")

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._vectorizer.transform(texts).toarray().astype(np.float32)

    encode_sentences = encode_passages

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]

    def token_count(self, text: str, kind: str = "passage") -> int:
        return len(text) + 2  # a token per character, plus the two special tokens
