"""Retrievers by name: Settings.retriever picks one (default "hybrid")."""

from __future__ import annotations

from .base import Retriever
from .hybrid import HybridRetriever

RETRIEVERS: dict[str, type[Retriever]] = {"hybrid": HybridRetriever}


class UnknownRetriever(LookupError):
    """Settings.retriever names no registered retriever."""


def retriever_named(name: str) -> type[Retriever]:
    try:
        return RETRIEVERS[name]
    except KeyError:
        raise UnknownRetriever(f"unknown retriever {name!r} (one of: {', '.join(RETRIEVERS)})") from None
