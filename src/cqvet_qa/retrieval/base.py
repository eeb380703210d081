"""The retrieval seam: what any retriever gives the rest of cqvet-qa.

The assistant holds one `Retriever`, chosen by name (Settings.retriever) from
`cqvet_qa.retrieval.registry.RETRIEVERS`; the default is the hybrid BM25 + FAISS one
(`hybrid.HybridRetriever`). Another one (a search server, say) implements this protocol and
is added to the registry; `docs/ARCHITECTURE.md` says how.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..passages import Passage

if TYPE_CHECKING:
    from ..index_store import LoadedIndex
    from ..settings import Settings


@dataclass
class Hit:
    rank: int
    score: float
    text: str
    doc: str
    section: str
    page: int
    chunk_id: str

    def to_dict(self) -> dict:
        return asdict(self)


class UnknownDocument(LookupError):
    """A search was kept to a document the index does not hold."""


def document_names(doc_id: str, title: str) -> set[str]:
    """Every name a user may give a document, casefolded: file name, file name without suffix, title."""
    return {name.casefold() for name in (doc_id, doc_id.rsplit(".", 1)[0], title)}


class Retriever(Protocol):
    passages: list[Passage]  # every indexed passage, in index order

    @classmethod
    def from_index(cls, index: LoadedIndex, settings: Settings) -> Retriever:
        """Index the passages of a built index (with their vectors, `index.dense.vectors()`)."""

    def search(self, query: str, vector: np.ndarray, k: int, doc: str | None = None) -> list[Hit]:
        """The top k passages for a (cleaned) query and its vector; `doc` (file name or title) keeps
        the search to one document, UnknownDocument when none is called that."""

    @property
    def size(self) -> int:
        """Passages indexed."""
