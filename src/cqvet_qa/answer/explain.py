"""Why an answer came out as it did: the candidates, their probabilities, each feature's share.

`cqvet-qa eval --explain` prints this under every question it gets wrong, so a failure can be
traced to a feature (or a missing one) instead of patched with a rule for one question.
"""

from __future__ import annotations

from .confidence import confidence_vector
from .features import vector
from .pipeline import explain
from .ranker import shipped_model

SHOWN_CANDIDATES = 3
SHOWN_FEATURES = 5


def _strongest(contributions: dict[str, float]) -> str:
    top = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))[:SHOWN_FEATURES]
    return ", ".join(f"{name} {value:+.2f}" for name, value in top)


def explanation(assistant, question: str) -> list[str]:
    model = shipped_model()
    parsed, ranked = explain(assistant.reading(), question, model)
    verdict = "answer" if ranked.confidence >= model.threshold else "decline"
    lines = [f"    {parsed.kind} question · confidence {ranked.confidence:.2f} (threshold {model.threshold:.2f}: {verdict})"]
    if ranked.candidates:
        x = confidence_vector(ranked.probabilities, ranked.candidates, ranked.signals, model.confidence.features)
        lines.append(f"      confidence from: {_strongest(model.confidence.contributions(x))}")
    for c, p in list(zip(ranked.candidates, ranked.probabilities))[:SHOWN_CANDIDATES]:
        lead = f" → {c.span.text}" if c.span else ""
        lines.append(f"    {p:.2f} {c.sentence[:60]}{lead}")
        lines.append(f"      {_strongest(model.ranker.contributions(vector(c, ranked.signals, model.ranker.features)))}")
    return lines
