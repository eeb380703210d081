"""The learned answer model, its weights kept as data.

Three logistic models over named features: the span model picks what a sentence's answer
leads with (`span_features.SPAN_FEATURES`), the ranker scores every candidate sentence of a
question (`features.FEATURES`), the confidence model judges the ranker's best one from how it
stands among the rest (`confidence.CONFIDENCE_FEATURES`). Below the learned threshold the
answer is declined. `data/answer_model.json` holds names, standardisation, weights and the
threshold, all chosen by cross-validation (`python -m cqvet_qa.answer.training`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

MODEL_FILE = "answer_model.json"


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over standardised named features."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        return 1.0 / (1.0 + np.exp(-(((x - self.mean) / self.scale) @ self.coef + self.intercept)))

    def contributions(self, x: np.ndarray) -> dict[str, float]:
        """Each feature's share of the log-odds of one row, for `eval --explain`."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale * self.coef
        return {name: round(float(v), 3) for name, v in zip(self.features, z)}

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, features: list[str], regularisation: float) -> "Logistic":
        from sklearn.linear_model import LogisticRegression  # training only: answering needs numpy alone

        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        model = LogisticRegression(C=regularisation, max_iter=3000).fit((x - mean) / scale, y)
        return cls(features, mean, scale, model.coef_[0], float(model.intercept_[0]))

    def to_dict(self) -> dict:
        return {"features": self.features, "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
                "coef": self.coef.round(6).tolist(), "intercept": round(self.intercept, 6)}

    @classmethod
    def from_dict(cls, data: dict) -> "Logistic":
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")}
        return cls(list(data["features"]), intercept=float(data["intercept"]), **arrays)


@dataclass(frozen=True)
class AnswerModel:
    span: Logistic  # scores the spans of a sentence: the answer leads with the best
    ranker: Logistic  # P(this sentence answers the question)
    confidence: Logistic  # P(the ranker's best sentence answers it)
    threshold: float  # the least confidence at which an answer is given

    def to_dict(self, **extra) -> dict:
        return {"span": self.span.to_dict(), "ranker": self.ranker.to_dict(), "confidence": self.confidence.to_dict(),
                "threshold": round(self.threshold, 4), **extra}

    @classmethod
    def from_dict(cls, data: dict) -> "AnswerModel":
        parts = (Logistic.from_dict(data[k]) for k in ("span", "ranker", "confidence"))
        return cls(*parts, float(data["threshold"]))


@lru_cache(maxsize=1)
def shipped_model() -> AnswerModel:
    text = resources.files("cqvet_qa").joinpath("data", MODEL_FILE).read_text(encoding="utf-8")
    return AnswerModel.from_dict(json.loads(text))
