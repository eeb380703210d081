"""An office at once: 16 users × 5 questions against one running app, all real processes.

The app is `cqvet-qa serve` in a process of its own on a loopback port; each user is a process
of its own (tests/load_user.py) that asks over HTTP with gradio_client and records a like or
dislike per answer in one shared feedback file. Every one of the 80 questions must come back
with its figure, none with an error, within a bounded time; p50/p95 latencies are printed and
written to test-output/load.json. Each user words the questions in its own way ("请问…",
"Hi, …"), so no answer comes from the query cache: every request really searches. The feedback
file must stay valid JSONL with every vote in it.
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

import httpx
import pytest

from cqvet_qa.ui.layout import CONCURRENCY_LIMIT

USERS = 16
QUESTIONS_EACH = 5
START_DEADLINE = 180  # seconds for the app process to load the model and index and answer HTTP
DEADLINE = 240  # seconds for the whole run: on 2 shared cores it takes about 20-60 s
ZH_OPENINGS = ["", "请问", "请问一下，", "你好，", "您好，", "麻烦问下，", "想了解一下，", "我想知道",
               "请告诉我", "问一下，", "老师好，", "同事问：", "打扰一下，", "查询：", "帮我查一下，", "请教一下，"]
EN_OPENINGS = ["", "Please tell me: ", "Hi, ", "Quick question: ", "Hello, ", "Can you tell me: ", "I'd like to know: ",
               "Question: ", "Sorry to bother you, ", "One more: ", "Hey, ", "Dear assistant, ", "Tell me: ", "Query: ",
               "Help me out: ", "Could you check: "]
QUESTIONS = [  # (language, question, the figure its answer must give)
    ("zh", "重庆在全国职业院校技能大赛上已经连续多少年保持西部第一了？", "16年"),
    ("zh", "2024年重庆中职学生继续升学的比例具体是多少？", "79.2%"),
    ("zh", "重庆市级财政每年拿出多少专项经费支持社区教育？", "500万"),
    ("zh", "重庆职业学校幼儿保育、婴幼儿托育类专业现在有多少在校生？", "23607"),
    ("en", "How many vocational schools in Chongqing became pilot schools for elderly education in 2024?", "42"),
]
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> int | None:
    """SIGTERM, as a service manager stops the app; its exit code, or None if it had to be killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
    return process.returncode


@pytest.fixture(scope="module")
def app_process(assistant, tmp_path_factory):
    """`cqvet-qa serve` over the repo's index (the `assistant` fixture made sure it is built): its URL."""
    log = tmp_path_factory.mktemp("app") / "serve.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cqvet_qa.cli", "serve", "--port", str(port), "--no-rebuild"],
            stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
            if time.perf_counter() - started > START_DEADLINE:
                pytest.fail(f"the app did not answer HTTP within {START_DEADLINE} s: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        print(f"\napp process answering HTTP after {time.perf_counter() - started:.1f} s")
        yield url
    finally:
        code = stop(process)
    assert code == 0, f"the app did not close cleanly on SIGTERM (exit {code})"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def questions_of(user: int) -> list[list[str]]:
    chosen = [QUESTIONS[(user + i) % len(QUESTIONS)] for i in range(QUESTIONS_EACH)]
    return [[(ZH_OPENINGS if lang == "zh" else EN_OPENINGS)[user] + question, figure] for lang, question, figure in chosen]


@pytest.mark.timeout(START_DEADLINE + DEADLINE + 60)
def test_sixteen_users_get_every_answer(app_process, tmp_path, capsys):
    feedback = tmp_path / "feedback.jsonl"
    started = time.perf_counter()
    users = [
        subprocess.Popen(
            [sys.executable, str(TESTS / "load_user.py"), app_process, str(feedback), json.dumps(questions_of(n))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(USERS)
    ]
    results, crashed = [], []
    try:
        for n, user in enumerate(users):
            out, err = user.communicate(timeout=max(1.0, DEADLINE - (time.perf_counter() - started)))
            results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            if user.returncode:
                crashed.append((n, err[-500:]))
    finally:
        for user in users:
            if user.poll() is None:
                user.kill()
    wall = time.perf_counter() - started

    errors = [r for r in results if "error" in r]
    # Under load every answer is the report's figure or an honest decline (a polite opening may lower
    # the answer's confidence below the threshold); a wrong figure is a failure, and most are answered.
    wrong = [r for r in results if "error" not in r and r["answered"] and r["figure"] not in r["text"]]
    declined = [r for r in results if "error" not in r and not r["answered"]]
    latencies = [r["seconds"] for r in results if "error" not in r]
    summary = {
        "users": USERS, "questions": len(results), "errors": len(errors), "wrong": len(wrong),
        "concurrency_limit": CONCURRENCY_LIMIT, "wall_seconds": round(wall, 2),
        "p50_seconds": round(statistics.median(latencies), 2) if latencies else None,
        "p95_seconds": round(percentile(latencies, 0.95), 2) if latencies else None,
        "max_seconds": round(max(latencies), 2) if latencies else None,
    }
    out = REPO / "test-output" / "load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    with capsys.disabled():
        print(f"\nload: {json.dumps(summary)}")

    assert crashed == []
    assert len(results) == USERS * QUESTIONS_EACH
    assert errors == [], errors[:3]
    assert wrong == [], [(r["question"], r["text"][:40]) for r in wrong[:5]]
    assert len(declined) <= len(results) // 5, [r["question"] for r in declined[:5]]

    records = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]  # every line whole JSON
    assert len(records) == USERS * QUESTIONS_EACH
    assert sorted(r["question"] for r in records) == sorted(r["question"] for r in results)
    assert all(r["citations"] and r["liked"] in (True, False) for r in records)
