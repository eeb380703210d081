"""Shared fixtures: one Assistant over the shipped report for the whole session.

It uses the repo's corpus/ and index/ (built by the set-up command, or here
if missing), so the suite pays for the model and index once.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from cqvet_qa.assistant import Assistant


@pytest.fixture(scope="session")
def assistant() -> Assistant:
    return Assistant.load()
