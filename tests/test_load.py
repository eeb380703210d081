"""An office at once: 16 gradio_client users × 5 questions against one running app.

Every one of the 80 questions must come back with its figure, none with an error, within a
bounded time; p50/p95 latencies are printed and written to test-output/load.json. Each user
words the questions in its own way ("请问…", "Hi, …"), so no answer comes from the query cache:
every request really searches. Meanwhile every user also likes its answers (the like
handler, called in-process as the page's event would be), and the feedback file must stay
valid JSONL with every vote in it.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import pytest
from gradio_client import Client

import cqvet_qa.embedding.model as model_module
from cqvet_qa.ui import CONCURRENCY_LIMIT, on_like

USERS = 16
QUESTIONS_EACH = 5
DEADLINE = 200  # seconds for the whole run: on 2 shared cores it takes about 20-40 s
ZH_OPENINGS = ["", "请问", "请问一下，", "你好，", "您好，", "麻烦问下，", "想了解一下，", "我想知道",
               "请告诉我", "问一下，", "老师好，", "同事问：", "打扰一下，", "查询：", "帮我查一下，", "请教一下，"]
EN_OPENINGS = ["", "Please tell me: ", "Hi, ", "Quick question: ", "Hello, ", "Can you tell me: ", "I'd like to know: ",
               "Question: ", "Sorry to bother you, ", "One more: ", "Hey, ", "Dear assistant, ", "Tell me: ", "Query: ",
               "Help me out: ", "Could you check: "]
QUESTIONS = [  # (language, question, the figure its answer must give)
    ("zh", "有多少个鲁班工坊？", "2个"),
    ("zh", "2024年办学条件总体达标率是多少？", "88.5%"),
    ("zh", "2024年重庆中职学生继续升学的比例是多少？", "79.2%"),
    ("zh", "中高职贯通培养招了多少学生？", "31728"),
    ("en", "How many Luban workshops?", "2"),
]
REPO = Path(__file__).resolve().parents[1]


class Like:
    """What gr.LikeData gives the handler."""

    def __init__(self, index: int, liked: bool) -> None:
        self.index, self.liked = index, liked


@pytest.fixture(scope="module")
def server(app_server):
    return app_server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.mark.timeout(DEADLINE + 60)
def test_sixteen_users_get_every_answer(server, capsys):
    url, feedback = server
    cache_clear = getattr(getattr(model_module, "_cached_query", None), "cache_clear", None)
    if cache_clear:
        cache_clear()  # earlier tests asked some of these questions
    results: list[dict] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE

    def user(n: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - recorded as a failure of each question
            with lock:
                results.extend({"user": n, "error": f"connect: {exc!r}"} for _ in range(QUESTIONS_EACH))
            return
        for i in range(QUESTIONS_EACH):
            lang, question, figure = QUESTIONS[(n + i) % len(QUESTIONS)]
            asked = (ZH_OPENINGS if lang == "zh" else EN_OPENINGS)[n] + question
            record = {"user": n, "question": asked, "figure": figure}
            started = time.perf_counter()
            try:
                job = client.submit(question=asked, history=[], api_name="/ask")
                answer = job.result(timeout=max(1.0, stop_at - time.monotonic()))
                record.update(seconds=time.perf_counter() - started, text=answer["text"], answered=answer["answered"])
                turn = {"question": asked, "answer": answer, "shown_answer": answer["text"], "message_index": 1}
                on_like(feedback, [turn], Like(1, i % 2 == 0))
            except Exception as exc:  # noqa: BLE001
                record.update(seconds=time.perf_counter() - started, error=repr(exc)[:300])
            with lock:
                results.append(record)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(USERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, stop_at - time.monotonic() + 5))
    wall = time.perf_counter() - started

    assert not any(t.is_alive() for t in threads), f"users still waiting after {DEADLINE}s"
    errors = [r for r in results if "error" in r]
    wrong = [r for r in results if "error" not in r and not (r["answered"] and r["figure"] in r["text"])]
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

    assert len(results) == USERS * QUESTIONS_EACH
    assert errors == [], errors[:3]
    assert wrong == [], [(r["question"], r["text"][:40]) for r in wrong[:5]]

    lines = feedback.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is whole JSON
    assert len(records) == USERS * QUESTIONS_EACH
    assert sorted(r["question"] for r in records) == sorted(r["question"] for r in results)
    assert all(r["citations"] and r["liked"] in (True, False) for r in records)
