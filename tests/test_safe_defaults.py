"""Safe by default: this machine only, no share link, no file read through the HTTP server, no upload route.

The app is started with `ui.server.start` (what `cqvet-qa serve` runs) while GRADIO_* variables
that would widen it are set, to show they do not.
"""

from __future__ import annotations

import inspect
import socket

import gradio as gr
import httpx
import pytest

from cqvet_qa.ui import server as ui
from cqvet_qa.cli import _parser
from repo_data import REPO

FILE_COMPONENTS = tuple(
    getattr(gr, name) for name in ("File", "Files", "UploadButton", "Image", "ImageEditor", "Audio", "Video", "Gallery", "Model3D", "MultimodalTextbox", "DownloadButton", "FileExplorer")
    if hasattr(gr, name)
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(assistant, tmp_path_factory):
    feedback = tmp_path_factory.mktemp("fb") / "feedback.jsonl"
    feedback.write_text('{"question": "secret"}\n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_SERVER_NAME", "0.0.0.0")  # start() must still bind 127.0.0.1
        env.setenv("GRADIO_MCP_SERVER", "True")
        env.setenv("GRADIO_VIBE_MODE", "1")
        env.setenv("GRADIO_SSR_MODE", "True")
        demo, url = ui.start(assistant, port=free_port(), feedback_path=feedback, warm_up=False)
    try:
        yield demo, url, feedback
    finally:
        demo.close()


def test_serve_binds_this_machine_only_by_default():
    assert _parser().parse_args(["serve"]).host == "127.0.0.1"
    for function in (ui.launch, ui.start):
        assert inspect.signature(function).parameters["host"].default == "127.0.0.1"


def test_started_app_is_local_and_never_shared(served):
    demo, url, _ = served
    assert url.startswith("http://127.0.0.1:")
    assert demo.server_name == "127.0.0.1"
    assert demo.share is False and demo.share_url is None
    assert demo.state_session_capacity == ui.SESSION_CAPACITY == 200  # per-session state is bounded (benchmarks/soak.py)
    config = httpx.get(url + "config", timeout=30).json()
    assert not config.get("share_url") and not config.get("show_error") and not config.get("mcp_server")
    assert not config.get("vibe_mode")


def test_no_component_takes_or_serves_files(served):
    demo, _, _ = served
    assert demo.allowed_paths == []
    offenders = [type(b).__name__ for b in demo.blocks.values() if isinstance(b, FILE_COMPONENTS)]
    assert offenders == []
    chatbots = [b for b in demo.blocks.values() if isinstance(b, gr.Chatbot)]
    assert chatbots and all(c.sanitize_html for c in chatbots)


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=../../../../../../etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=/proc/self/environ",
        "/file=/etc/passwd",
        "/static/../../../../etc/passwd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file={repo}/README.md",
        "/gradio_api/file={repo}/corpus/cq-vet-quality-report-2024.txt",
        "/gradio_api/file={repo}/index/current/manifest.json",
        "/gradio_api/file={repo}/src/cqvet_qa/settings.py",
        "/gradio_api/file=README.md",
        "/gradio_api/file={feedback}",
    ],
)
def test_no_arbitrary_file_can_be_read(served, path):
    _, url, feedback = served
    path = path.format(repo=REPO, feedback=feedback)
    response = httpx.get(url.rstrip("/") + path, timeout=30)
    assert response.status_code in (400, 403, 404), (response.status_code, response.text[:200])
    assert "root:x:" not in response.text and "secret" not in response.text


def test_there_is_no_upload_route_without_allow_upload(served):
    _, url, _ = served
    assert _parser().parse_args(["serve"]).allow_upload is False
    response = httpx.post(
        url + "gradio_api/upload",
        files={"files": ("page.html", b"<script>alert(document.cookie)</script>", "text/html")},
        timeout=30,
    )
    assert response.status_code == 404, (response.status_code, response.text[:200])
    assert httpx.get(url + "gradio_api/upload_progress", timeout=30).status_code == 404


def test_no_open_proxy_or_code_editor(served):
    _, url, _ = served
    proxied = httpx.get(url + f"gradio_api/proxy={url}config", timeout=30)
    assert proxied.status_code in (400, 403, 404)
    edit = httpx.post(url + "gradio_api/vibe-edit", json={"prompt": "print(1)"}, timeout=30)
    assert edit.status_code in (403, 404, 405, 422)
    assert httpx.get(url + "gradio_api/mcp/schema", timeout=30).status_code == 404
