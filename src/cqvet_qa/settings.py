"""Where things live by default, each overridable by flag or environment variable."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_corpus() -> Path:
    return Path(os.environ.get("CQVET_CORPUS", REPO_ROOT / "corpus"))


def default_index() -> Path:
    return Path(os.environ.get("CQVET_INDEX", REPO_ROOT / "index"))


def cache_dir() -> Path:
    """Converted models live here, outside git."""
    base = os.environ.get("CQVET_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "cqvet-qa"
    )
    return Path(base)
