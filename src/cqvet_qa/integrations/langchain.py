"""A LangChain retriever over the assistant's search, so that a LangChain chain cites like the product.

langchain-core is imported here only (`import cqvet_qa` does not need it).
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from ..assistant import Assistant
from ..retrieval.base import Hit


class CqvetRetriever(BaseRetriever):
    """The top `k` passages for a query, as `Document`s (text; doc, section, page, chunk_id, rank, score)."""

    assistant: Assistant  # from Assistant.load(); one can serve several retrievers
    k: int = Field(default=5, ge=1, le=100)
    doc: str | None = None  # only this document (file name or title), or None for all

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(hit) for hit in self.assistant.search(query, k=self.k, doc=self.doc)]


def to_document(hit: Hit) -> Document:
    """A hit as a Document: the passage is the content, every other field of the Hit is metadata."""
    metadata = hit.to_dict()
    return Document(page_content=metadata.pop("text"), metadata=metadata)
