"""`cqvet-qa serve` as its own process on a free loopback port, for tests that need a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT = 180  # seconds: the model loads, and a small index may be built first


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_process(log: Path, *args: str, env: dict[str, str] | None = None):
    """Start `cqvet-qa serve ARGS` (the environment plus `env`); yields (base URL, process)."""
    port = free_port()
    environ = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", **(env or {})}
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cqvet_qa.cli", "serve", "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, env=environ,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "running at" not in log.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text(encoding='utf-8')[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
