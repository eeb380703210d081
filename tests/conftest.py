"""Shared fixtures: one Assistant over the shipped report for the whole session.

It uses the repo's corpus/ and index/ (built by the set-up command, or here
if missing), so the suite pays for the model and index once.
"""

from __future__ import annotations

import os
import socket

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from cqvet_qa.assistant import Assistant
from cqvet_qa.ui import build_app


@pytest.fixture(scope="session")
def assistant() -> Assistant:
    return Assistant.load()


@pytest.fixture(scope="module")
def app_server(assistant, tmp_path_factory):
    """The chat app on a free loopback port with a feedback file of its own: (url, feedback path)."""
    feedback = tmp_path_factory.mktemp("fb") / "feedback.jsonl"
    demo = build_app(assistant, feedback_path=feedback)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", feedback
    finally:
        demo.close()
