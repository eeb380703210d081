"""The unit layer: no embedding model, no shipped report or index; `pytest tests/unit` runs it alone.

`tiny` is an Assistant over the two in-file school reports, indexed with the hashing
embedder through the same `Assistant.load(embedder=…)` path the product uses.
"""

from __future__ import annotations

import pytest

from cqvet_qa.assistant import Assistant
from hashing_embedder import HashingEmbedder
from school_reports import SCHOOL_REPORTS, write_corpus


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("tiny")
    return Assistant.load(write_corpus(root / "corpus", SCHOOL_REPORTS), root / "index", embedder=HashingEmbedder())
