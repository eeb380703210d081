"""Soak: many HTTP API calls against one `cqvet-qa serve` process, its RSS over time (issue 17, finding 9).

Starts the server on the repo's corpus and index, then `--clients` threads call /search and /ask
over raw HTTP (POST /gradio_api/call/NAME, then GET its result: two HTTP requests per call) until
`--requests` HTTP requests have been made. Prints a table of the server's RSS (VmRSS) every tenth
of the run and the growth after the warm-up (the first tenth). Not part of the unit suite.

    python benchmarks/soak.py [--requests 10000] [--clients 4]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from server_process import serve_process  # noqa: E402

QUESTIONS = ["2024年办学条件总体达标率是多少？", "有多少个鲁班工坊？", "重庆技能大赛连续多少年西部第一？", "How many Luban workshops are there?"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def call(client: httpx.Client, url: str, n: int) -> bool:
    question = QUESTIONS[n % len(QUESTIONS)]
    name, data = ("search", [question, 5, ""]) if n % 2 else ("ask", [question, [], 5, "", ""])
    posted = client.post(f"{url}/gradio_api/call/{name}", json={"data": data})
    result = client.get(f"{url}/gradio_api/call/{name}/{posted.json()['event_id']}")
    return "event: complete" in result.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="HTTP requests in all (two per call)")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    calls = args.requests // 2
    counter, lock, failures = itertools.count(), threading.Lock(), []
    with tempfile.TemporaryDirectory() as folder, serve_process(Path(folder) / "serve.log", "--no-rebuild") as (url, process):
        rows = [(0, time.monotonic(), rss_mb(process.pid))]

        def worker() -> None:
            with httpx.Client(timeout=120) as client:
                while (n := next(counter)) < calls:
                    if not call(client, url, n):
                        with lock:
                            failures.append(n)
                    done = n + 1
                    if done % max(calls // 10, 1) == 0:
                        with lock:
                            rows.append((2 * done, time.monotonic(), rss_mb(process.pid)))

        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    start = rows[0][1]
    print("| HTTP requests | seconds | RSS MB |")
    print("| --- | --- | --- |")
    for requests, at, rss in sorted(rows):
        print(f"| {requests:,} | {at - start:.0f} | {rss:.0f} |")
    warm = sorted(rows)[1][2] if len(rows) > 1 else rows[0][2]
    print(f"\nRSS growth after the warm-up (first tenth): {sorted(rows)[-1][2] - warm:+.0f} MB; failed calls: {len(failures)}")


if __name__ == "__main__":
    main()
