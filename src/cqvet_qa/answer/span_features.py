"""Named features of a span inside a sentence, for choosing what the answer leads with.

Which figure of a sentence answers is decided by its surroundings: the clause that names it,
the question's year and school level just before it, a 分别 list that pairs it with an item, a
bound (超过…以上) or a change (较上年增加…) around it. The weights are learned from the spans
of training sentences that hold the answer (`training.fit_span_model`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from .features import YEAR, coverage
from .question import HIGHER, SECONDARY, Question, asks_change
from .respectively import expand_levels, paired_item
from .spans import Span

_BREAK = re.compile(r"[，,：:（）()；;。]")
_BOUND_BEFORE = re.compile(r"(超过|不足|达到|超|近|约|逾|以上|以下)$")
_BOUND_AFTER = re.compile(r"^(以上|以下|左右|余)")
_CHANGE_BEFORE = re.compile(r"(增加|增长|提升|提高|新增|减少|下降|增幅|上升|多)了?$")
_REACHED = re.compile(r"(至|到|达|为|是)$")
_PART = re.compile(r"其中[^，。；]{0,20}$")


@dataclass
class SpanContext:
    """One span of a sentence, with what its features read."""

    span: Span
    sentence: str
    clause: str
    question: Question
    terms: dict[str, float]


def _before(x: SpanContext, n: int) -> str:
    return x.sentence[max(0, x.span.start - n) : x.span.start]


def clause_coverage(x: SpanContext) -> float:
    return coverage(x.clause, x.terms)


def preceding_coverage(x: SpanContext) -> float:
    """How much of the question the words just before the span hold: a figure follows what it counts."""
    return coverage(_before(x, 16), x.terms)


def heavy_term_distance(x: SpanContext) -> float:
    """Closeness to the question's weightiest words in the sentence, weighted, 1 adjacent, 0 far or absent."""
    heaviest = sorted(((w, t) for t, w in x.terms.items() if not t.startswith("∅")), reverse=True)[:4]
    total = sum(w for w, _ in heaviest) or 1.0
    score = 0.0
    for weight, term in heaviest:
        gaps = [x.span.start - m.end() if m.end() <= x.span.start else 1.5 * (m.start() - x.span.end)
                for m in re.finditer(re.escape(term), x.sentence)]
        if gaps:
            score += weight * math.exp(-max(min(gaps), 0) / 15)
    return score / total


def separators_between(x: SpanContext) -> float:
    """Enumeration marks between the last question word and the span: "本科2所、专科45所" are other items."""
    last = max((x.sentence.rfind(t, 0, x.span.start) + len(t) for t in x.terms if x.sentence.rfind(t, 0, x.span.start) >= 0), default=-1)
    return min(x.sentence.count("、", last, x.span.start), 5) / 5 if last >= 0 else 1.0


def unit_match(x: SpanContext) -> float:
    return float(bool(x.question.unit) and x.span.counts(x.question.unit))


def unit_mismatch(x: SpanContext) -> float:
    return float(bool(x.question.unit) and bool(x.span.unit) and not x.span.counts(x.question.unit))


def year_before(x: SpanContext) -> float:
    return float(any(y in _before(x, 12) for y in x.question.years))


def other_year_before(x: SpanContext) -> float:
    years = set(YEAR.findall(_before(x, 12)))
    return float(bool(x.question.years) and bool(years) and not years & set(x.question.years))


def _level_of(x: SpanContext) -> str:
    paired = paired_item(x.sentence, x.span.start)
    text = expand_levels(paired[0] if paired else _before(x, 20))
    named = [(text.rfind(w), lvl) for lvl, words in (("s", SECONDARY), ("h", HIGHER)) for w in words if w in text]
    return max(named)[1] if named else ""


def level_match(x: SpanContext) -> float:
    wanted = "" if not x.question.level else ("s" if x.question.level == SECONDARY else "h")
    level = _level_of(x)
    return 0.0 if not wanted or not level else (1.0 if level == wanted else -1.0)


def is_bound(x: SpanContext) -> float:
    return float(bool(_BOUND_BEFORE.search(_before(x, 3))) or bool(_BOUND_AFTER.match(x.sentence[x.span.end : x.span.end + 2])))


def is_change(x: SpanContext) -> float:
    """The span is a change (较上年增加1382人); +1 when the question asks a change, -1 when it asks a level."""
    change = bool(_CHANGE_BEFORE.search(_before(x, 4)))
    asked = asks_change(x.question.text)
    return 0.0 if not change else (1.0 if asked else -1.0)


def reached(x: SpanContext) -> float:
    """"从20%提升至81.7%": the figure reached, not the starting point."""
    return float(bool(_REACHED.search(_before(x, 1))))


def part_of_total(x: SpanContext) -> float:
    return float(bool(_PART.search(_before(x, 24))))


def restates_question(x: SpanContext) -> float:
    return float(x.span.text in x.question.text)


def first_in_clause(x: SpanContext) -> float:
    return float(not re.search(r"\d", x.clause[: max(0, x.clause.find(x.span.text))]))


def position(x: SpanContext) -> float:
    return x.span.start / (len(x.sentence) or 1)


def date_parts(x: SpanContext) -> float:
    """How much of a date the span gives (年, 月, 日): "2024年" in "2024年职业教育工作会" names the
    meeting, "2024年4月26日" dates it."""
    return sum(part in x.span.text for part in "年月日") / 3 if x.question.kind == "date" else 0.0


def quoted(x: SpanContext) -> float:
    return float(x.sentence[max(0, x.span.start - 1) : x.span.start] in "“《")


SPAN_FEATURES: dict[str, Callable[[SpanContext], float]] = {
    f.__name__: f
    for f in (clause_coverage, preceding_coverage, heavy_term_distance, separators_between, unit_match, unit_mismatch,
              year_before, other_year_before, level_match, is_bound, is_change, reached, part_of_total,
              restates_question, first_in_clause, position, quoted, date_parts)
}


def clause_of(sentence: str, span: Span) -> str:
    """The clause around a span; a 分别 list's clause reaches back to the items it pairs."""
    left = max((m.end() for m in _BREAK.finditer(sentence, 0, span.start)), default=0)
    right = next((m.start() for m in _BREAK.finditer(sentence, span.end)), len(sentence))
    paired = paired_item(sentence, span.start)
    if paired:
        left = min(left, max((m.end() for m in _BREAK.finditer(sentence, 0, paired[1])), default=0))
    return sentence[left:right]


def span_vectors(sentence: str, spans: tuple[Span, ...], question: Question, terms: dict[str, float], names: list[str]) -> list[list[float]]:
    contexts = [SpanContext(s, sentence, clause_of(sentence, s), question, terms) for s in spans]
    return [[SPAN_FEATURES[n](x) for n in names] for x in contexts]
