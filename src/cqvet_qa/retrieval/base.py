"""The retrieval seam: what any retriever gives the rest of cqvet-qa.

The assistant holds one `Retriever`, chosen by name (Settings.retriever) from
`cqvet_qa.retrieval.registry.RETRIEVERS`; the default is the hybrid BM25 + FAISS one
(`hybrid.HybridRetriever`). Another one (a search server, say) implements this protocol and
is added to the registry; `docs/ARCHITECTURE.md` says how.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..passages import Passage

if TYPE_CHECKING:
    from ..index_store import LoadedIndex
    from ..settings import Settings


@dataclass
class Hit:
    """One passage found by a search; part of the public API (`from cqvet_qa import Hit`).

    Its field names are also the keys of `search --json`, the MCP `search` tool and the HTTP API.
    """

    rank: int  # 1 for the best passage, then 2, 3, ...
    score: float  # the retriever's fused score: higher is better, comparable within one search only
    text: str  # the passage as printed in the document (whole table rows, whole sentences)
    doc: str  # the title of the document it comes from
    section: str  # its heading path, e.g. "1 发展概况 › 1.2 办学能力"
    page: int  # the page it starts on, as printed in the document (1 for formats without pages)
    chunk_id: str  # a stable id of the passage within the index

    def to_dict(self) -> dict:
        return asdict(self)


class UnknownDocument(LookupError):
    """A search was kept to a document the index does not hold."""


def document_names(doc_id: str, title: str) -> set[str]:
    """Every name a user may give a document, casefolded: file name, file name without suffix, title."""
    return {name.casefold() for name in (doc_id, doc_id.rsplit(".", 1)[0], title)}


# A query's vector, encoded when a retriever calls it: work the retriever has started in another
# thread runs meanwhile, as onnxruntime releases the GIL while it encodes (hybrid.py).
QueryVector = Callable[[], np.ndarray]


class Retriever(Protocol):
    passages: list[Passage]  # every indexed passage, in index order

    @classmethod
    def from_index(cls, index: LoadedIndex, settings: Settings) -> Retriever:
        """Index the passages of a built index (with their vectors, `index.dense.vectors()`)."""

    def search(self, query: str, vector: QueryVector, k: int, doc: str | None = None) -> list[Hit]:
        """The top k passages for a (cleaned) query and its vector (call `vector` once, as late as
        possible); `doc` (file name or title) keeps
        the search to one document, UnknownDocument when none is called that."""

    @property
    def size(self) -> int:
        """Passages indexed."""


class SearchStore(Protocol):
    """An engine outside the local build that holds the passages too (Milvus), kept in step by each build."""

    @property
    def record(self) -> dict:
        """What the manifest keeps of the store: an index built for another one (or none) is stale."""

    def problem(self, passages: int) -> str | None:
        """Why the store does not hold the index's `passages` passages (missing, other schema, other count), or None."""

    def sync(self, passages: list[Passage], vectors: np.ndarray, tokenize: Callable[[str], list[str]],
             unchanged: set[str] | None) -> None:
        """Hold exactly `passages`: documents not in `unchanged` replaced, the rest kept (None: all anew)."""
