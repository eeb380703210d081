"""Shared fixtures: one Assistant over the shipped report for the whole session.

It uses the repo's corpus/ and index/ (built by the set-up command, or here
if missing), so the suite pays for the model and index once. `repo_data_settings`
points every Settings built in the session (in-process commands, child processes)
at them through CQVET_CORPUS and CQVET_INDEX, whatever the current directory. `two_school_server`
serves a small index of two documents (for the document filter), with the same model.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import contextmanager

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from cqvet_qa.assistant import Assistant
from repo_data import CORPUS, DEV_SETS, INDEX
from school_reports import SCHOOL_REPORTS, write_corpus


@pytest.fixture(scope="session", autouse=True)
def repo_data_settings():
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CQVET_CORPUS", str(CORPUS))
        env.setenv("CQVET_INDEX", str(INDEX))
        yield


@pytest.fixture(scope="session")
def assistant() -> Assistant:
    return Assistant.load(corpus=CORPUS, index=INDEX)


@pytest.fixture(scope="session")
def dev_questions() -> list[str]:
    """The questions of the dev set; the test is skipped where shared/ is not beside the repo."""
    path = next((p for p in DEV_SETS if p.exists()), None)
    if path is None:
        pytest.skip("the dev set (shared/eval/dev.jsonl) is not beside the repo")
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@contextmanager
def serving(assistant: Assistant, feedback):
    """The chat app of `assistant` on a free loopback port, started as `cqvet-qa serve` starts it: yields its URL."""
    from cqvet_qa.ui.server import start  # here, so that the unit layer does not import Gradio

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo, url = start(assistant, port=port, feedback_path=feedback, warm_up=False)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def app_server(assistant, tmp_path_factory):
    """The chat app on a free loopback port with a feedback file of its own: (url, feedback path)."""
    feedback = tmp_path_factory.mktemp("fb") / "feedback.jsonl"
    with serving(assistant, feedback) as url:
        yield url, feedback


@pytest.fixture(scope="session")
def two_schools(assistant, tmp_path_factory) -> Assistant:
    """An Assistant over SCHOOL_REPORTS, sharing the session's loaded model."""
    root = tmp_path_factory.mktemp("two-schools")
    return Assistant.load(write_corpus(root / "corpus", SCHOOL_REPORTS), root / "index", embedder=assistant.embedder)


@pytest.fixture(scope="module")
def two_school_server(two_schools, tmp_path_factory) -> str:
    with serving(two_schools, tmp_path_factory.mktemp("fb") / "feedback.jsonl") as url:
        yield url
