"""Sentences of the passages, and their vectors made at build time.

The answerer picks a sentence before it picks a span: on questions nobody tuned for, the
sentence closest to the question in meaning (the embedding model) and in words (BM25 terms)
was right more often than hand-written span rules (train set 0.727 vs 0.573). Embedding the
~900 sentences of the report takes about 5 s at build time; a question then needs only dot
products against the sentences of its top passages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .passages import Passage

SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
MIN_SENTENCE_CHARS = 4
_SENTENCE_END = re.compile(r"[。！？；\n]")


def widen(passages: list[Passage], i: int) -> str:
    """The passage grown to whole sentences from its overlapping neighbours (all exact document text)."""
    p = passages[i]
    text = p.text
    prev = passages[i - 1] if i > 0 else None
    if prev and prev.doc_id == p.doc_id and prev.start < p.start < prev.end and not _SENTENCE_END.search(prev.text[p.start - prev.start - 1 :][:1]):
        head = prev.text[: p.start - prev.start]
        cut = max((m.end() for m in _SENTENCE_END.finditer(head)), default=0)
        text = head[cut:] + text
    nxt = passages[i + 1] if i + 1 < len(passages) else None
    if nxt and nxt.doc_id == p.doc_id and nxt.start < p.end < nxt.end and not _SENTENCE_END.search(text[-1:]):
        tail = nxt.text[p.end - nxt.start :]
        m = _SENTENCE_END.search(tail)
        text += tail[: m.end()] if m else tail
    return text


def split_sentences(text: str) -> list[str]:
    """Sentences (and table rows, one a line) of a text, stripped; fragments under 4 characters dropped."""
    found = (m.group(0).strip() for m in SENTENCE.finditer(text))
    return [s for s in found if len(s) >= MIN_SENTENCE_CHARS]


def embedding_text(sentence: str, table_heading: str = "") -> str:
    """What the model reads for a sentence: a table row means little without its table's title and header
    (`table_heading`, empty for prose). Build time and question time must agree, or no vector is found."""
    return f"{table_heading} {sentence}" if table_heading else sentence


def corpus_sentences(passages: list[Passage]) -> list[str]:
    """Every distinct embedding text of the passages' sentences, in corpus order."""
    texts: dict[str, None] = {}
    for i, p in enumerate(passages):
        for s in split_sentences(widen(passages, i)):
            texts.setdefault(embedding_text(s, p.context if p.kind == "table" else ""))
    return list(texts)


class SentenceVectors:
    """Normalised vectors of the corpus sentences, looked up by their embedding text."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.texts = texts
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.row = {t: i for i, t in enumerate(texts)}

    def similarity(self, query_vector: np.ndarray, texts: list[str]) -> np.ndarray:
        """Cosine of the query to each text; 0 for a text built after the index (none in practice)."""
        rows = [self.row.get(t, -1) for t in texts]
        known = np.asarray([r for r in rows if r >= 0], dtype=np.int64)
        sims = np.zeros(len(texts), dtype=np.float32)
        mask = np.asarray([r >= 0 for r in rows])
        if known.size:
            sims[mask] = self.vectors[known] @ query_vector
        return sims

    def get(self, text: str) -> np.ndarray | None:
        row = self.row.get(text)
        return None if row is None else self.vectors[row]

    def save(self, directory: Path) -> None:
        (directory / "sentences.json").write_text(json.dumps(self.texts, ensure_ascii=False), encoding="utf-8")
        np.save(directory / "sentences.npy", self.vectors)

    @classmethod
    def load(cls, directory: Path) -> "SentenceVectors":
        texts = json.loads((directory / "sentences.json").read_text(encoding="utf-8"))
        vectors = np.load(directory / "sentences.npy", allow_pickle=False)
        if not isinstance(texts, list) or vectors.ndim != 2 or len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} sentences but {len(vectors)} sentence vectors")
        return cls(texts, vectors)
