"""Learn the answer model (ranker, confidence, threshold) from labelled questions.

    python -m cqvet_qa.answer.training QUESTIONS.jsonl [...] [--out FILE] [--folds 5]

Each candidate sentence is labelled by the product's own metric: would the answer composed
from it contain an acceptable answer. Both models are cross-validated with questions grouped
into folds, so every question is judged by models that never saw it: the ranker's held-out
probabilities feed the confidence model, whose held-out confidences choose the threshold that
answers the most questions right while keeping wrong answers within MAX_WRONG. Then both are
fitted on all questions.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..evaluation import answer_correct, read_questions
from .compose import compose
from .confidence import CONFIDENCE_FEATURES, confidence_vector
from .extract import candidates, signals
from .features import FEATURES, Candidate, Signals, vector
from .pipeline import gather
from .ranker import MODEL_FILE, AnswerModel, Logistic

MAX_WRONG = 0.07  # wrong answers allowed on held-out questions; the product's limit is 0.08
REGULARISATION = 1.0  # sklearn's C for both models: 0.1 and 10 measured the same within 0.01
FOLDS = 5
THRESHOLDS = np.arange(0.0, 1.0, 0.01)


@dataclass
class QuestionRows:
    item: dict
    candidates: list[Candidate]
    signals: Signals
    x: np.ndarray  # one row of ranker features per candidate
    y: np.ndarray  # 1 where the candidate's composed answer is right

    @property
    def unanswerable(self) -> bool:
        return self.item.get("type") == "unanswerable" or not self.item.get("answers")


def collect(assistant, items: list[dict]) -> list[QuestionRows]:
    names = list(FEATURES)
    rows = []
    for item in items:
        parsed, terms, query_vector, evidence = gather(assistant, item["question"], [], 5)
        found = candidates(parsed, evidence, terms, assistant.sentences, query_vector)
        sig = signals(parsed, found, terms)
        x = np.asarray([vector(c, sig, names) for c in found], dtype=np.float64).reshape(len(found), len(names))
        right = [answer_correct(item, compose(parsed, c, c.span, terms), True) for c in found]
        y = np.asarray(right, dtype=np.int64) * (item.get("type") != "unanswerable")
        rows.append(QuestionRows(item, found, sig, x, y))
    return rows


def _folds(n: int, folds: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[f::folds] for f in range(folds)]


def fit_ranker(rows: list[QuestionRows]) -> Logistic:
    kept = [r for r in rows if len(r.x)]
    return Logistic.fit(np.vstack([r.x for r in kept]), np.concatenate([r.y for r in kept]), list(FEATURES), REGULARISATION)


def judged(rows: list[QuestionRows], ranker_of) -> tuple[np.ndarray, np.ndarray]:
    """Confidence features of each question's best candidate, and whether it is right."""
    names = list(CONFIDENCE_FEATURES)
    x, y = [], []
    for i, r in enumerate(rows):
        probs = ranker_of(i).probabilities(r.x) if len(r.x) else np.zeros(0)
        order = np.argsort(-probs, kind="stable")
        x.append(confidence_vector(probs[order], [r.candidates[j] for j in order], r.signals, names))
        y.append(int(len(order) > 0 and r.y[order[0]]))
    return np.asarray(x, dtype=np.float64), np.asarray(y)


def outcome(confidence: np.ndarray, right: np.ndarray, unanswerable: np.ndarray, threshold: float) -> dict:
    """Accuracy and wrong rate at a threshold: a decline is right only for an unanswerable question."""
    answered = confidence >= threshold
    n = len(confidence) or 1
    return {"accuracy": round(float((answered & (right == 1)).sum() + (~answered & unanswerable).sum()) / n, 4),
            "wrong": round(float((answered & (right == 0)).sum()) / n, 4)}


def choose_threshold(confidence: np.ndarray, right: np.ndarray, unanswerable: np.ndarray) -> tuple[float, dict]:
    allowed = [(outcome(confidence, right, unanswerable, t)["accuracy"], -t) for t in THRESHOLDS
               if outcome(confidence, right, unanswerable, t)["wrong"] <= MAX_WRONG]
    accuracy, threshold = max(allowed) if allowed else (0.0, -1.0)
    return float(-threshold), outcome(confidence, right, unanswerable, -threshold)


def train(assistant, items: list[dict], folds: int = FOLDS) -> tuple[AnswerModel, dict]:
    rows = collect(assistant, items)
    unanswerable = np.asarray([r.unanswerable for r in rows])
    ranker_folds = _folds(len(rows), folds, seed=0)
    fold_of = {int(i): f for f, idx in enumerate(ranker_folds) for i in idx}
    rankers = [fit_ranker([r for i, r in enumerate(rows) if fold_of[i] != f]) for f in range(folds)]
    x, right = judged(rows, lambda i: rankers[fold_of[i]])  # every question ranked by a model that never saw it
    held = np.zeros(len(rows))
    for idx in _folds(len(rows), folds, seed=1):
        train_idx = np.setdiff1d(np.arange(len(rows)), idx)
        model = Logistic.fit(x[train_idx], right[train_idx], list(CONFIDENCE_FEATURES), REGULARISATION)
        held[idx] = model.probabilities(x[idx])
    threshold, cv = choose_threshold(held, right, unanswerable)
    cv = {"questions": len(rows), "threshold": round(threshold, 2), **cv,
          "never_decline": outcome(held, right, unanswerable, 0.0),
          "best_candidate_right": round(float(right[~unanswerable].mean()), 4),
          "any_candidate_right": round(float(np.mean([r.y.any() for r in rows if not r.unanswerable])), 4)}
    confidence = Logistic.fit(x, right, list(CONFIDENCE_FEATURES), REGULARISATION)
    return AnswerModel(fit_ranker(rows), confidence, threshold), cv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cqvet_qa.answer.training", description=__doc__.split("\n")[0])
    parser.add_argument("questions", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "data" / MODEL_FILE)
    parser.add_argument("--folds", type=int, default=FOLDS)
    args = parser.parse_args(argv)
    from ..assistant import Assistant

    items = [item for path in args.questions for item in read_questions(path)]
    model, cv = train(Assistant.load(), items, folds=args.folds)
    data = model.to_dict(trained_on=[p.name for p in args.questions], cross_validation=cv)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(cv, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
