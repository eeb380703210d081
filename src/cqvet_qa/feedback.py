"""Answer feedback: likes and dislikes appended to a JSONL file, whole lines only.

Its own module (no Gradio) so that any process, the app or a script, can append safely.
"""

from __future__ import annotations

import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock


def append_feedback(path: Path, record: dict) -> None:
    """Append one JSON line under a file lock, so concurrent likes never interleave or get lost."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with FileLock(str(path) + ".lock", timeout=30):
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())


FEEDBACK_CATEGORIES = ("wrong_figure", "wrong_source", "not_answered", "other")
MAX_COMMENT_CHARS = 500


def feedback_record(turn: dict, liked, category: str = "", comment: str = "") -> dict:
    """What one like/dislike records: the question, the answer and its citations.

    A dislike's reason (one of FEEDBACK_CATEGORIES and a short comment) comes as its own
    line after the vote, so a vote is kept even when no reason follows.
    """
    answer = turn.get("answer") or {}
    reason = {}
    if category or comment:
        reason = {"category": category if category in FEEDBACK_CATEGORIES else "other", "comment": str(comment)[:MAX_COMMENT_CHARS]}
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "question": turn.get("question", ""),
        "answer": answer.get("text", html.unescape(turn.get("shown_answer", ""))),
        "citations": answer.get("citations", []),
        # True like, False dislike, None when the user took the vote back.
        "liked": liked if isinstance(liked, bool) else None,
        **reason,
    }
