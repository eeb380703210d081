"""Cold launches as a user meets them: the `cqvet-qa` command and the server, each a fresh process.

`ask`/`search`: wall time from launching `python -m cqvet_qa.cli` to its first line of output (the
answer, or the first hit). The naive pipeline has no command line; its cold figure is the least any
lookup through it costs: a fresh interpreter that imports sentence-transformers, loads the same
model and encodes the question. Serve: from launching `cqvet-qa serve` to the first answer over
its HTTP API, and the server's peak RSS (VmHWM) after answering. The OS file cache is warm.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

SERVE_TIMEOUT_S = 120
POLL_S = 0.05

NAIVE_COLD_CODE = """
import sys
from sentence_transformers import SentenceTransformer
from cqvet_qa.embedding.model import resolve_model
from cqvet_qa.settings import Settings
model = SentenceTransformer(str(resolve_model(Settings.from_env(model=sys.argv[1] or None))[1]), device="cpu", local_files_only=True)
print(model.encode(["query: " + sys.argv[2]], normalize_embeddings=True)[0][:3])
"""


def _first_line_s(cmd: list[str]) -> float:
    """Seconds from launching `cmd` to its first line on stdout; the process is then left to finish."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    _, err = proc.communicate(timeout=300)
    if not first:
        raise RuntimeError(f"no output from {' '.join(cmd[:4])}…: {err[-2000:]}")
    return elapsed


def cli_cold(command: str, question: str, corpus: Path, index: Path, model: str | None, runs: int) -> dict:
    """Median (and every run) of `cqvet-qa COMMAND QUESTION` launched cold, to its first printed line."""
    cmd = [sys.executable, "-m", "cqvet_qa.cli", command, question, "--corpus", str(corpus), "--index", str(index), "--no-rebuild"]
    if model:
        cmd += ["--model", model]
    times = [_first_line_s(cmd) for _ in range(runs)]
    return {"median_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times]}


def naive_cold(question: str, model: str | None, runs: int) -> dict:
    times = [_first_line_s([sys.executable, "-c", NAIVE_COLD_CODE, model or "", question]) for _ in range(runs)]
    return {"median_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask_over_http(url: str, question: str) -> dict | None:
    """The answer from the server's /ask endpoint, or None while it is not yet listening."""
    import httpx

    api = f"{url}gradio_api/call/ask"
    try:
        started = httpx.post(api, json={"data": [question, [], 5, "", ""]}, timeout=30)
    except httpx.TransportError:
        return None
    started.raise_for_status()
    with httpx.stream("GET", f"{api}/{started.json()['event_id']}", timeout=60) as events:
        text = events.read().decode()
    return json.loads(text.split("data:", 1)[1].strip().splitlines()[0])[0]


def serve_cold(question: str, corpus: Path, index: Path, model: str | None) -> dict:
    """Launch `cqvet-qa serve`, ask once over HTTP; seconds to the answer and the server's peak RSS."""
    port = _free_port()
    cmd = [sys.executable, "-m", "cqvet_qa.cli", "serve", "--port", str(port), "--corpus", str(corpus),
           "--index", str(index), "--no-rebuild"]
    if model:
        cmd += ["--model", model]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        answer = None
        while answer is None:
            if proc.poll() is not None or time.perf_counter() - started > SERVE_TIMEOUT_S:
                raise RuntimeError(f"the server did not answer: {proc.stderr.read()[-2000:] if proc.stderr else ''}")
            answer = _ask_over_http(f"http://127.0.0.1:{port}/", question)
            if answer is None:
                time.sleep(POLL_S)
        first_answer = time.perf_counter() - started
        peak_kb = _status_kb(proc.pid, "VmHWM")
    finally:
        if proc.poll() is None:  # a server that failed to start has exited: its error is the one to show
            os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)
    return {"first_answer_s": round(first_answer, 3), "peak_rss_mb": round(peak_kb / 1024), "answered": answer.get("answered")}


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")
