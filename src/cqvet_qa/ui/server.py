"""Serving the page and API on this machine only, with Gradio's riskier features off.

Safe by default (`start`): binds 127.0.0.1, never a share link, no file access beyond
Gradio's own assets, no upload route (unless the owner allows uploads), no MCP server, no SSR,
and every request passes `guard.RequestGuard` (host names, origin, body size) first.
"""

from __future__ import annotations

import signal
from pathlib import Path

from .arity import InputCount, input_counts
from .guard import Policy, RequestGuard
from .layout import build_app
from .uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB

DEFAULT_HOST = "127.0.0.1"

# Gradio keeps a per-session state for its last 10,000 sessions, and every API call is a session
# of its own: ~80 KB each, so RSS grew by ~40 KB per HTTP request, towards ~800 MB
# (benchmarks/soak.py). The page keeps its conversation in the browser; the server's per-session
# state is only a pending dislike, so the last 200 sessions are plenty.
SESSION_CAPACITY = 200

# What `start` passes to Gradio, whatever GRADIO_* variables say: no share link, no uploads
# (max_file_size 0, and the guard answers 404 on the upload routes; `allow_upload` sets 20 MB), no MCP
# server, no server-side rendering, no error details sent to clients. Gradio itself serves no
# file outside its own assets and temp files: allowed_paths stays empty unless the operator
# sets GRADIO_ALLOWED_PATHS on purpose (tests/test_safe_defaults.py checks the defaults).
SAFE_LAUNCH = {
    "share": False,
    "max_file_size": 0,
    "mcp_server": False,
    "ssr_mode": False,
    "pwa": False,
    "enable_monitoring": False,
    "show_error": False,
    "strict_cors": True,
    "state_session_capacity": SESSION_CAPACITY,
}


def guard(demo, app, policy: Policy) -> None:
    """Put RequestGuard (then InputCount) in front of the whole app, Gradio's CORS layer included.

    FastAPI only takes middleware before it starts, and Gradio adds its CORS layer outside
    anything passed in; so the guard wraps the built stack itself, right after launch (the
    server has then answered only Gradio's own start-up check).
    """
    app.middleware_stack = RequestGuard(InputCount(app.build_middleware_stack(), input_counts(demo)), policy)


def start(
    assistant, host: str = DEFAULT_HOST, port: int = 7860, feedback_path: Path | None = None, warm_up: bool = True,
    allow_upload: bool = False,
):
    """Serve the UI and API on host:port in the background; returns (demo, url). `launch` blocks on it.

    `allow_upload`: the owner's "add a document" control, files up to MAX_UPLOAD_MB.
    """
    if warm_up:
        assistant.search("重庆职业教育", k=1)  # warm up tokenizer and model so the first question is quick
    demo = build_app(assistant, feedback_path, allow_upload=allow_upload)
    options = {**SAFE_LAUNCH, "max_file_size": f"{MAX_UPLOAD_MB}mb"} if allow_upload else SAFE_LAUNCH
    host = host or DEFAULT_HOST
    app, url, _ = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, **options)
    guard(demo, app, Policy.for_server(host, assistant.settings.max_request_mb, MAX_UPLOAD_BYTES if allow_upload else None))
    return demo, url


def _stop_like_ctrl_c(signum, frame):
    raise KeyboardInterrupt


def launch(
    assistant, host: str = DEFAULT_HOST, port: int = 7860, feedback_path: Path | None = None, allow_upload: bool = False
) -> None:
    """Serve the UI and API on host:port (never shared publicly) and block until stopped."""
    demo, url = start(assistant, host, port, feedback_path, allow_upload=allow_upload)
    print(f"cqvet-qa UI and API running at {url} (Ctrl+C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)  # a service manager's stop closes the server too
    try:
        demo.block_thread()
    finally:
        demo.close()
