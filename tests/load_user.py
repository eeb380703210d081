"""One office user for tests/test_load.py, run as its own process.

Asks its questions over HTTP with gradio_client, likes or dislikes each answer in the shared
feedback file (as the app's like handler does), and prints one JSON line per question.
Usage: python load_user.py URL FEEDBACK_FILE '[["question", "figure"], ...]'
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from gradio_client import Client

from cqvet_qa.feedback import append_feedback, feedback_record


def main(url: str, feedback: str, questions: list[list[str]]) -> None:
    client = Client(url, verbose=False)
    for i, (asked, figure) in enumerate(questions):
        record = {"question": asked, "figure": figure}
        started = time.perf_counter()
        try:
            answer = client.predict(question=asked, history=[], api_name="/ask")
            record.update(seconds=time.perf_counter() - started, text=answer["text"], answered=answer["answered"])
            append_feedback(Path(feedback), feedback_record({"question": asked, "answer": answer}, i % 2 == 0))
        except Exception as exc:  # noqa: BLE001 - reported to the test as this question's failure
            record.update(seconds=time.perf_counter() - started, error=repr(exc)[:300])
        print(json.dumps(record, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
