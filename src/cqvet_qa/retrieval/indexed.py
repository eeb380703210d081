"""What every retriever keeps of the local build, whichever engine ranks the passages.

The passages themselves (hits, the answerer's widening and its citations), BM25's tokenizer and
term statistics (a question's terms and their weights) and the query translator stay in this
process on every store: only the ranking moves to FAISS or to Milvus. A ranking comes back as
passage ids, best first; `distinct_hits` turns it into Hits without passages that overlap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..language import detect_language
from ..memo import BoundedMemo
from ..passages import Passage
from .base import Hit, UnknownDocument, document_names
from .bm25 import BM25Index
from .synonyms import formalise
from .translate import QueryTranslator

if TYPE_CHECKING:
    from pathlib import Path


QUERY_MEMO = 10_000  # queries whose terms are kept before the memo is dropped


def overlaps(a: Passage, b: Passage) -> bool:
    """True when two passages of one document share any text (neighbours overlap by design)."""
    if a.doc_id != b.doc_id:
        return False
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > 0


def _rows_by_name(passages: list[Passage]) -> dict[str, np.ndarray]:
    """Passage ids of each document under every name a user may give it (document_names)."""
    rows: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        for name in document_names(p.doc_id, p.doc):
            rows.setdefault(name, []).append(i)
    return {name: np.asarray(ids, dtype=np.int64) for name, ids in rows.items()}


class IndexedPassages:
    """The passages of the local build, their names and BM25 terms; retrievers add a `search`."""

    def __init__(self, passages: list[Passage], bm25: BM25Index, cache: Path | None = None) -> None:
        self.passages = passages
        self.position = {p.chunk_id: i for i, p in enumerate(passages)}
        self.bm25 = bm25
        self._rows_by_name = _rows_by_name(passages)
        self.translator = QueryTranslator(bm25.vocabulary, cache=cache)
        self._terms = BoundedMemo(QUERY_MEMO)

    @property
    def size(self) -> int:
        return len(self.passages)

    def query_terms(self, query: str) -> list[str]:
        """The BM25 tokens of a query in the report's wording; an English one also gets its Chinese translations.

        Kept per query (~0.3 ms for an English one): its search, the vector of its Chinese rendering
        and its answer each need them.
        """
        return list(self._terms.get_or_make(query, lambda: self._query_terms(query)))

    def _query_terms(self, query: str) -> tuple[str, ...]:
        tokenize = self.bm25.tokenizer
        tokens = tokenize(formalise(query))
        if detect_language(query) == "en":
            tokens += [t for chinese in self.translator.translate(query) for t in tokenize(chinese)]
        return tuple(dict.fromkeys(tokens))

    def chinese_rendering(self, query: str) -> str:
        """An English query's Chinese terms as one text for the embedding model ("" for a Chinese query)."""
        if detect_language(query) != "en":
            return ""
        return " ".join(t for t in self.query_terms(query) if not t.isascii() and len(t) > 1)

    def alternative_terms(self, query: str) -> list[list[str]]:
        """For each English word or phrase with several translations, the BM25 tokens of them all:
        the question's terms that stand in for one word (none for a Chinese question)."""
        if detect_language(query) != "en":
            return []
        tokenize = self.bm25.tokenizer
        return [list(dict.fromkeys(t for chinese in unit for t in tokenize(chinese))) for unit in self.translator.alternatives(query)]

    def rows_of(self, doc: str) -> np.ndarray:
        """Passage ids of the document named `doc` (file name, file name without suffix, or title)."""
        rows = self._rows_by_name.get(doc.strip().casefold())
        if rows is None:
            raise UnknownDocument(f"no indexed document is called {doc!r} (cqvet-qa docs lists them)")
        return rows

    def distinct_hits(self, ranked: list[int], score_of: dict[int, float], k: int) -> list[Hit]:
        """The first k passages of a ranking (ids, best first) that overlap none ranked above them."""
        kept: list[int] = []
        for pid in ranked:
            if not any(overlaps(self.passages[pid], self.passages[q]) for q in kept):
                kept.append(pid)
                if len(kept) == k:
                    break
        return [self._hit(rank, pid, score_of[pid]) for rank, pid in enumerate(kept, start=1)]

    def _hit(self, rank: int, pid: int, score: float) -> Hit:
        p = self.passages[pid]
        return Hit(rank, round(float(score), 4), p.text, p.doc, p.section, p.page, p.chunk_id)
