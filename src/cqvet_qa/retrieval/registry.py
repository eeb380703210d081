"""Retrievers by name, and the store that chooses one.

Settings.store (--store) set: the Milvus retriever on that store; otherwise Settings.retriever
picks one from RETRIEVERS (default "hybrid"). pymilvus is imported only when a store is set.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from .base import Retriever, SearchStore
from .hybrid import HybridRetriever

if TYPE_CHECKING:
    from ..settings import Settings, StoreSettings

RETRIEVERS: dict[str, type[Retriever]] = {"hybrid": HybridRetriever}


class UnknownRetriever(LookupError):
    """Settings.retriever names no registered retriever."""


class StoreUnavailable(LookupError):
    """A Milvus store is set but pymilvus is not installed."""


def retriever_named(name: str) -> type[Retriever]:
    try:
        return RETRIEVERS[name]
    except KeyError:
        raise UnknownRetriever(f"unknown retriever {name!r} (one of: {', '.join(RETRIEVERS)})") from None


def retriever_for(settings: Settings) -> type[Retriever]:
    """The Milvus retriever when a store is set, else the one Settings.retriever names."""
    if settings.store is None:
        return retriever_named(settings.retriever)
    _check_milvus(settings.store)
    from .milvus import MilvusRetriever

    return MilvusRetriever


def search_store(settings: Settings) -> SearchStore | None:
    """The store an index build keeps in step (opened, so an unreachable one is told first), or None."""
    if settings.store is None:
        return None
    _check_milvus(settings.store)
    from .milvus_store import MilvusStore

    return MilvusStore(settings.store)


def _check_milvus(store: StoreSettings) -> None:
    """pymilvus is there (and milvus-lite, for a Lite file), or one line says how to install them."""
    needed = ["pymilvus", "milvus_lite"] if store.lite else ["pymilvus"]
    if any(importlib.util.find_spec(name) is None for name in needed):
        raise StoreUnavailable(f"the Milvus store needs {' and '.join(needed)}: pip install 'cqvet-qa[milvus]'")
