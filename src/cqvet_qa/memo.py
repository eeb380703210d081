"""A per-instance memo that cannot grow without bound."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

V = TypeVar("V")


class BoundedMemo(dict):
    """Values made once per key and kept, all dropped at once past `limit` entries: a long-running
    server meets endless new questions and words, and a query's terms or translation are asked for
    several times while it is answered (its search, its vector, its answer)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        if key in self:
            return self[key]
        if len(self) > self.limit:
            self.clear()
        value = self[key] = make()
        return value
