"""Metrics on a question file in the format of the shared dev set.

hit@k: a gold evidence span (whitespace removed) lies inside one of the top k
passages; MRR over the top 10; answer accuracy: the short answer contains an
acceptable answer (all of them for `list`), and unanswerable questions are
not answered; wrong: answered but not right (a decline is never wrong).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

_WS = re.compile(r"\s+")
KS = (1, 5, 10)


def squash(text: str) -> str:
    return _WS.sub("", text).lower()


def read_questions(path: Path) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{number} is not JSON ({exc})") from exc
                if not isinstance(item, dict) or not str(item.get("question", "")).strip():
                    raise ValueError(f'{path}:{number} has no "question"')
                items.append(item)
    return items


def first_hit_rank(passages: list[str], evidence: list[str]) -> int | None:
    spans = [squash(e) for e in evidence if e.strip()]
    for rank, text in enumerate(passages, start=1):
        body = squash(text)
        if any(span in body for span in spans):
            return rank
    return None


def answer_correct(item: dict, text: str, answered: bool) -> bool:
    if item.get("type") == "unanswerable" or not item.get("answers"):
        return not answered
    got = squash(text)
    wanted = [squash(a) for a in item["answers"]]
    if item.get("type") == "list":
        return answered and all(w in got for w in wanted)
    return answered and any(w in got for w in wanted)


FIGURE_TYPES = ("number", "rate", "date", "rank")


def lead_of(text: str) -> str:
    """What an answer leads with, before the report's words: "98.65%（…）", "98.65% — the report says…"."""
    return re.split(r"（| — ", text, maxsplit=1)[0]


def lead_correct(item: dict, text: str) -> bool:
    """The figure an answer leads with is an acceptable one (stricter than the sentence holding it)."""
    return any(squash(a) in squash(lead_of(text)) for a in item.get("answers") or [])


def summarize(rows: list[dict]) -> dict:
    """Aggregate per-question rows ({lang, type, rank, correct?}) overall, by lang and by type."""

    def metrics(group: list[dict]) -> dict:
        retrieval = [r for r in group if r["evidence"]]
        out = {"n": len(group)}
        for k in KS:
            out[f"hit@{k}"] = _mean([r["rank"] is not None and r["rank"] <= k for r in retrieval])
        out["mrr"] = _mean([1 / r["rank"] if r["rank"] else 0.0 for r in retrieval])
        if any("correct" in r for r in group):
            out["answer_accuracy"] = _mean([r["correct"] for r in group])
            out["wrong"] = _mean([r["answered"] and not r["correct"] for r in group])  # answered, but not right
            out["declined"] = _mean([not r["answered"] for r in group])
            leads = [r["lead"] for r in group if r.get("lead") is not None]
            out["lead_accuracy"] = _mean(leads)  # of right answers to figure questions, those leading with the figure
        return out

    by: dict[str, dict[str, list]] = {"lang": defaultdict(list), "type": defaultdict(list)}
    for r in rows:
        by["lang"][r["lang"]].append(r)
        by["type"][r["type"]].append(r)
    return {
        "overall": metrics(rows),
        "by_lang": {k: metrics(v) for k, v in sorted(by["lang"].items())},
        "by_type": {k: metrics(v) for k, v in sorted(by["type"].items())},
    }


def _mean(values: list) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def run_eval(assistant, items: list[dict], k: int = 10) -> dict:
    """Search and answer every question: where its evidence first appears, and whether the answer is right."""
    rows, failures = [], []
    for item in items:
        hits = assistant.search(item["question"], k=max(k, max(KS)))
        rank = first_hit_rank([h.text for h in hits], item.get("evidence", []))
        answer = assistant.ask(item["question"])
        correct = answer_correct(item, answer.text, answer.answered)
        lead = lead_correct(item, answer.text) if correct and item.get("type") in FIGURE_TYPES else None
        rows.append({"id": item.get("id"), "lang": item.get("lang", "?"), "type": item.get("type", "?"),
                     "evidence": bool(item.get("evidence")), "rank": rank, "correct": correct,
                     "answered": answer.answered, "lead": lead})
        if not correct:
            failures.append({"id": item.get("id"), "question": item["question"],
                             "expected": item.get("answers") or "(not in the report)",
                             "got": answer.text if answer.answered else f"(not answered) {answer.text}"})
    result = summarize(rows)
    result["misses"] = [r["id"] for r in rows if r["evidence"] and (r["rank"] is None or r["rank"] > 5)]
    result["failures"] = failures
    return result
