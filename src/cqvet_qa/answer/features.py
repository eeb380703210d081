"""Named features of a candidate answer sentence, the inputs of the learned ranker.

Each feature is a small function of one candidate (its sentence, passage and scope) and of
the question; the ranker's weights for them are learned from labelled questions
(`cqvet_qa.answer.training`) and kept as data (`data/answer_model.json`). A feature earns its
place by helping across the training set under cross-validation, never for one question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..retrieval.hybrid import Hit
from .parts import in_named_part
from .question import HIGHER, SECONDARY, Question, asks_change, date_precision
from .respectively import expand_levels
from .spans import Span, find_spans, organisations

YEAR = re.compile(r"(?<!\d)20\d{2}(?!\d)")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_COMPARED = re.compile(r"(较|比|相比|同比|与|than|compared (?:to|with)|versus|vs\.?)\s*(?:in\s*)?20\d{2}\s*(年|届)?", re.IGNORECASE)
_INCREASE_IN_SENTENCE = re.compile(r"增加|增长|提升|提高|新增|增幅|上升")
_TOTAL = re.compile(r"总|全部|一共|共计|合计|累计|in total|altogether|overall")
_TOTAL_IN_SENTENCE = re.compile(r"总|共|合计|累计|全市")
_CITY = re.compile(r"全市|重庆市|市级|全重庆|重庆(?!.{0,6}(学院|学校|大学|中心|公司))")


@dataclass
class Candidate:
    """One sentence of a retrieved passage, as the ranker sees it."""

    sentence: str
    hit: Hit
    context: str  # section path and heading (case title, table title and header)
    table: bool
    case: bool  # inside a 【案例】 box: one school's, company's or district's story
    similarity: float = 0.0  # cosine of the question to the sentence (embedding model)
    translated_similarity: float = 0.0  # cosine of an English question's Chinese terms to the sentence
    spans: tuple[Span, ...] = ()
    span: Span | None = None  # the span the answer would lead with
    clause: str = ""  # the clause around that span
    earlier: str = ""  # the passage before its own in the same section: a case box runs over several


@dataclass
class Signals:
    """What the features of one question share: its analysis, weighted terms and all candidates."""

    question: Question
    terms: dict[str, float]  # question term -> weight (IDF); "∅word" for English words without Chinese
    required: list[str]  # places and totals an answer sentence must hold
    key: str  # the rarest question term (Chinese questions)
    max_similarity: float
    max_coverage: float
    max_translated_similarity: float = 0.0


class Terms(dict):
    """A question's terms and their weights (term -> weight), knowing which of them are alternatives.

    An English word with several translations ("set up": 设立, 成立, 建成, 组建) is one word of the
    question: a sentence holding any one of them holds it, and counting each apart made an English
    question's coverage low however well a sentence matched (cross-validated on 3,411 questions,
    the best English candidate right 0.811 -> 0.820).
    """

    def __init__(self, weights: dict[str, float], alternatives: list[list[str]] = ()) -> None:
        super().__init__(weights)
        self.group = {t: i for i, terms in enumerate(alternatives) for t in terms if t in self}


def coverage(text: str, terms: dict[str, float]) -> float:
    """The share of the question's term weight the text holds (of alternatives, the heaviest it holds)."""
    group = getattr(terms, "group", {})
    total: dict[str | int, float] = {}
    held: dict[str | int, float] = {}
    for t, w in terms.items():
        key = group.get(t, t)
        total[key] = max(total.get(key, 0.0), w)
        if t in text:
            held[key] = max(held.get(key, 0.0), w)
    return sum(held.values()) / (sum(total.values()) or 1.0)


def _years(text: str) -> set[str]:
    return set(YEAR.findall(_COMPARED.sub("", text)))


@lru_cache(maxsize=4096)
def _levels(text: str) -> frozenset[str]:
    """The school levels a text names; four features ask it of each candidate's sentence (and heading),
    and the report's sentences recur from question to question."""
    text = expand_levels(text)
    return frozenset(name for name, words in (("secondary", SECONDARY), ("higher", HIGHER)) if any(w in text for w in words))


def _question_level(q: Question) -> str:
    return "" if not q.level else ("secondary" if q.level == SECONDARY else "higher")


# -- features: (candidate, signals) -> float -------------------------------------------------


def similarity(c: Candidate, s: Signals) -> float:
    return c.similarity


def similarity_gap(c: Candidate, s: Signals) -> float:
    """How far below the question's closest sentence this one is (0 for the closest)."""
    return c.similarity - s.max_similarity


def translated_similarity(c: Candidate, s: Signals) -> float:
    """How close an English question's Chinese terms are to the sentence (0 for a Chinese question)."""
    return c.translated_similarity


def translated_similarity_gap(c: Candidate, s: Signals) -> float:
    return c.translated_similarity - s.max_translated_similarity


def term_coverage(c: Candidate, s: Signals) -> float:
    return coverage(c.sentence, s.terms)


def context_coverage(c: Candidate, s: Signals) -> float:
    return coverage(f"{c.context} {c.sentence}", s.terms)


_CHINESE = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=256)
def _phrases(question: str, terms: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """The question's terms that its asker wrote side by side ("在线课程" from 在线 + 课程), each
    weighted as its lighter word."""
    words = [(t, w) for t, w in terms if len(t) > 1 and _CHINESE.search(t) and not any(t != u and t in u for u, _ in terms)]
    return tuple((a + b, min(wa, wb)) for a, wa in words for b, wb in words if a != b and a + b in question)


def phrase_coverage(c: Candidate, s: Signals) -> float:
    """How much of the question's phrases the candidate holds unbroken: word coverage cannot tell
    "开发在线课程" from "开发课程…在线精品课程"."""
    phrases = _phrases(s.question.text, tuple(s.terms.items()))
    return coverage(f"{c.context} {c.sentence}", dict(phrases)) if phrases else 0.0


def coverage_gap(c: Candidate, s: Signals) -> float:
    return coverage(f"{c.context} {c.sentence}", s.terms) - s.max_coverage


def heaviest_missing(c: Candidate, s: Signals) -> float:
    """The weightiest question word the candidate lacks, against the weightiest of all (0: lacks none).

    A near miss shares the question's words but one that narrows it (优秀, 哪个城市, a 2023 figure).
    """
    text = f"{c.context} {c.sentence}"
    weights = [w for t, w in s.terms.items() if not t.startswith("∅")]
    missing = [w for t, w in s.terms.items() if not t.startswith("∅") and t not in text]
    return max(missing, default=0.0) / (max(weights, default=0.0) or 1.0)


def key_term_missing(c: Candidate, s: Signals) -> float:
    return float(bool(s.key) and s.key not in f"{c.context} {c.sentence}")


_MEASURE = re.compile(r"(率|比例|比重|占比|人数|数量|金额|经费|收入|总额|总量|规模)$")


def measure_missing(c: Candidate, s: Signals) -> float:
    """The measure the question asks (辍学率, 到款额…) is not named where the candidate stands.

    The report's near misses share every word with a real figure but the measure: "中职辍学率"
    meets "中职学生升学比例…79.2%".
    """
    text = f"{c.context} {c.sentence}"
    return float(any(len(t) >= 3 and _MEASURE.search(t) and t not in text for t in s.terms))


# A rate named in a Chinese question with the two characters before its head ("辍学率", "晋升比例", "学历占比",
# "生师比"), however jieba cut it; "的比例", "多大比例" and "率先" name none.
_RATE_PHRASE = re.compile(r"(?:(?![的大多少有是占总在么啥])[\u4e00-\u9fff]){2}(?:率(?!先)|比例|比重|占比)|生师比|师生比")


_ENGLISH_RATE = re.compile(r"([a-z]+)[\s-]+(?:rate|ratio)\b")


def rate_phrase_missing(c: Candidate, s: Signals) -> float:
    """measure_missing for the rate phrases of the question's own text, which jieba often cuts in two
    ("晋升 比例"), or of an English one whose rate is named by a word the report has no Chinese for
    ("dropout rate"); the asker's wording may differ from the report's, so it only weighs, never declines."""
    if any(f"∅{m.group(1)}" in s.terms for m in _ENGLISH_RATE.finditer(s.question.text.lower())):
        return 1.0
    text = f"{c.context} {c.sentence}"
    return float(any(m.group(0) not in text for m in _RATE_PHRASE.finditer(s.question.text)))


def required_missing(c: Candidate, s: Signals) -> float:
    return float(any(t not in f"{c.hit.section} {c.context} {c.sentence}" for t in s.required))


def passage_rank(c: Candidate, s: Signals) -> float:
    return 1.0 / c.hit.rank


def has_wanted_span(c: Candidate, s: Signals) -> float:
    """The sentence holds something of the kind asked: a figure, a rate, a date, a rank, a name."""
    return float(bool(c.spans))


def clause_coverage(c: Candidate, s: Signals) -> float:
    """How much of the question the clause around the answer's span holds (a figure sits in the clause naming it)."""
    return coverage(c.clause, s.terms) if c.span else 0.0


_COUNTED = re.compile(r"\d+(?:\.\d+)?[所个家名项类]$")


def subject_only_counted(c: Candidate, s: Signals) -> float:
    """One of the question's two weightiest words stands in the sentence only as a counted item
    ("含32所技工学校") while the answer is another figure: a sentence that merely counts a kind of
    school gives the city's totals, not that kind's own."""
    if not c.span:
        return 0.0
    heaviest = sorted(((w, t) for t, w in s.terms.items() if len(t) >= 2 and not t.startswith("∅")), reverse=True)[:2]
    for _, term in heaviest:
        places = [m.start() for m in re.finditer(re.escape(term), c.sentence)]
        if places and all(_COUNTED.search(c.sentence[max(0, i - 8) : i]) for i in places) and \
                not any(c.span.start <= i <= c.span.end + 1 for i in places):
            return 1.0
    return 0.0


def span_proximity(c: Candidate, s: Signals) -> float:
    """Closeness of the span to the question's rarest word in the sentence: 1 adjacent, 0 far or absent."""
    if not c.span or not s.terms:
        return 0.0
    key = max(s.terms, key=s.terms.get)
    gaps = [min(abs(c.span.start - m.end()), abs(m.start() - c.span.end)) for m in re.finditer(re.escape(key), c.sentence)]
    return math.exp(-min(gaps) / 20) if gaps else 0.0


def unit_match(c: Candidate, s: Signals) -> float:
    unit = s.question.unit
    if s.question.kind != "number" or not unit:
        return 0.0
    return float(any(sp.counts(unit) for sp in c.spans))


def year_match(c: Candidate, s: Signals) -> float:
    return float(bool(s.question.years) and bool(_years(c.sentence) & set(s.question.years)))


def year_conflict(c: Candidate, s: Signals) -> float:
    """The sentence names years, none of them the question's: "2024年…88.5%" does not answer 2023."""
    years = _years(c.sentence)
    return float(bool(s.question.years) and bool(years) and not years & set(s.question.years))


def preceding(c: Candidate) -> str:
    """The candidate's passage up to the sentence: what a sentence that names no year or level goes on from."""
    return c.hit.text[: max(c.hit.text.find(c.sentence[:12]), 0)]


def _implied_years(c: Candidate) -> set[str]:
    """The year a sentence that names none speaks of: the last named before it in its passage, else
    its heading's, else its document's ("…年度报告（2024年度）")."""
    for text in (preceding(c), c.context, c.hit.section, c.hit.doc):
        if found := YEAR.findall(_COMPARED.sub("", text)):
            return {found[-1]}
    return set()


def implied_year_conflict(c: Candidate, s: Signals) -> float:
    """The sentence names no year, and the year it speaks of is not the question's: "纵向科研经费到款额
    8007.07万元" under a 2024 heading does not answer 2023."""
    asked = _years(s.question.text)  # "比2023年多了多少" asks about 2024
    if not asked or _years(c.sentence):
        return 0.0
    implied = _implied_years(c)
    return float(bool(implied) and not implied & asked)


def level_match(c: Candidate, s: Signals) -> float:
    wanted = _question_level(s.question)
    return float(bool(wanted) and wanted in _levels(c.sentence))


def level_conflict(c: Candidate, s: Signals) -> float:
    """The sentence speaks of the other school level only (高职 when 中职 is asked, or back)."""
    wanted = _question_level(s.question)
    levels = _levels(c.sentence)
    return float(bool(wanted) and bool(levels) and wanted not in levels)


def implied_level_conflict(c: Candidate, s: Signals) -> float:
    """The sentence names no school level, and the last one named before it in its passage is the
    other one: "聘请行业导师7537人" goes on from "高等职业学校…" and does not answer 中职."""
    wanted = _question_level(s.question)
    if not wanted or _levels(c.sentence):
        return 0.0
    before = expand_levels(preceding(c))
    named = [(before.rfind(w), name) for name, words in (("secondary", SECONDARY), ("higher", HIGHER)) for w in words if w in before]
    return float(bool(named) and max(named)[1] != wanted)


def level_unstated(c: Candidate, s: Signals) -> float:
    """A school level is asked and neither the sentence nor its heading names one: "全市职业学校…获取率超87%"
    speaks of every school and does not give 中职's own figure (right at 6 % wrong under cross-validation
    held out by fact, 4,311 questions: 0.813 -> 0.819; Chinese 0.858 -> 0.865)."""
    return float(bool(_question_level(s.question)) and not _levels(c.sentence) and not _levels(c.context))


def case_scope(c: Candidate, s: Signals) -> float:
    """A case box's figure offered for a question about the whole city."""
    return float(c.case and not names_a_party(s) and bool(_CITY.search(s.question.text) or s.question.lang == "en"))


def implied_school_scope(c: Candidate, s: Signals) -> float:
    """A question about the whole city meets a sentence that names no one but goes on from a school
    or company its passage named ("重庆电力高等专科学校…2024年就业对口率为88.63%")."""
    if names_a_party(s) or _parties(c.sentence) or _CITY.search(c.sentence):
        return 0.0
    before = preceding(c)
    named = organisations(before)
    return float(bool(named) and max(named)[0] > max((m.end() for m in _CITY.finditer(before)), default=-1))


def party_named(c: Candidate, s: Signals) -> float:
    """The school, district or company the question names stands in the sentence (1), is missing (-1), or none is named (0).

    A name is matched by its tail ("重庆市渝北区" meets "渝北区"), as askers and the report
    shorten names differently.
    """
    parties = _parties(s.question.text)
    if not parties:
        return 0.0
    text = f"{c.context} {c.sentence}"
    found = all(any(p[i:] in text for i in range(max(1, len(p) - 2))) for p in parties)
    return 1.0 if found else -1.0


def named_part(c: Candidate, s: Signals) -> float:
    """The table, case or section the question points at ("表3-1里…") holds the sentence (1), does not (-1),
    or none is named (0)."""
    if not s.question.parts:
        return 0.0
    return 1.0 if in_named_part(s.question.parts, c.hit.section) else -1.0


_GENERIC_IN_NAME = re.compile(r"重庆市?|中等|高等|职业|技术|学院|学校|大学|专科|教育|中心|有限|责任|股份|公司|集团|产教|融合")


def english_party_named(c: Candidate, s: Signals) -> float:
    """An English question names a school or company, and the one the candidate names shares its
    distinctive words (1, "Vocational Institute of Engineering" meets 重庆工程职业技术学院) or none (-1)."""
    if s.question.lang != "en" or not _ENGLISH_PARTY.search(s.question.text.lower()):
        return 0.0
    cores = [core for _, name in organisations(f"{c.context} {c.sentence}") if (core := _GENERIC_IN_NAME.sub("", name))]
    if not cores:
        return 0.0
    words = [t for t in s.terms if not t.startswith("∅") and len(t) >= 2 and _GENERIC_IN_NAME.sub("", t)]
    return 1.0 if any(w in core or core in w for core in cores for w in words) else -1.0


def date_precise(c: Candidate, s: Signals) -> float:
    """The day or month is asked ("哪天", "what date") and the candidate's date gives it (1) or stops short (-1)."""
    wanted = date_precision(s.question.text) if s.question.kind == "date" else ""
    if not wanted or not c.span:
        return 0.0
    return 1.0 if wanted in c.span.text.replace("号", "日") else -1.0


_CAPTION = re.compile(r"^图\s*\d+\s*-\s*\d+|^[（(][左右上下]图[）)]")


def figure_caption(c: Candidate, s: Signals) -> float:
    """The sentence is a picture's caption ("图2- 9 …毕业去向落实率", "（左图）…"): it names what a chart
    shows, which shares the question's words, not the figures."""
    return float(bool(_CAPTION.search(c.sentence)))


def in_case(c: Candidate, s: Signals) -> float:
    return float(c.case)


def city_sentence(c: Candidate, s: Signals) -> float:
    return float(bool(_CITY.search(c.sentence)))


def increase_asked(c: Candidate, s: Signals) -> float:
    """An increase is asked and the sentence states one (or back: a level asked, an increase stated)."""
    asked = asks_change(s.question.text)
    stated = bool(_INCREASE_IN_SENTENCE.search(c.sentence))
    return 1.0 if asked and stated else (-1.0 if asked != stated and asked else 0.0)


def total_asked(c: Candidate, s: Signals) -> float:
    asked = bool(_TOTAL.search(s.question.text.lower()))
    return float(asked and bool(_TOTAL_IN_SENTENCE.search(c.sentence)))


def table_row(c: Candidate, s: Signals) -> float:
    return float(c.table)


def length(c: Candidate, s: Signals) -> float:
    return math.log1p(len(c.sentence)) / 5


def english(c: Candidate, s: Signals) -> float:
    return float(s.question.lang == "en")


def untranslated(c: Candidate, s: Signals) -> float:
    """Share of an English question's weight in words the glossary could not put into Chinese."""
    total = sum(s.terms.values()) or 1.0
    return sum(w for t, w in s.terms.items() if t.startswith("∅")) / total


def best_similarity(c: Candidate, s: Signals) -> float:
    """How close the question's best sentence is: low when the report may not speak of it at all."""
    return s.max_similarity


def best_coverage(c: Candidate, s: Signals) -> float:
    return s.max_coverage


def _for_english(name: str) -> Callable[[Candidate, Signals], float]:
    def feature(c: Candidate, s: Signals) -> float:
        return FEATURES[name](c, s) if s.question.lang == "en" else 0.0

    feature.__name__ = f"english_{name}"
    feature.__doc__ = f"{name} for an English question: its words reach the report through a glossary, so meaning weighs more."
    return feature


def _span_for(kind: str) -> Callable[[Candidate, Signals], float]:
    def feature(c: Candidate, s: Signals) -> float:
        return float(s.question.kind == kind and bool(c.spans))

    feature.__name__ = f"{kind}_span"
    feature.__doc__ = f"A {kind} question meets a sentence holding such a span: how much that matters differs by kind."
    return feature


def _kind_feature(kind: str) -> Callable[[Candidate, Signals], float]:
    def feature(c: Candidate, s: Signals) -> float:
        return float(s.question.kind == kind)

    feature.__name__ = f"asks_{kind}"
    feature.__doc__ = f"The question asks a {kind}: each kind is answered correctly at its own base rate."
    return feature


_DISTRICT = re.compile(r"[\u4e00-\u9fff]{2,}?[区县](?![\u4e00-\u9fff]{0,1}[级域])")
_ENGLISH_PARTY = re.compile(r"college|school|institute|polytechnic|university|company|district|county")


def _parties(text: str) -> list[str]:
    """The schools, companies, consortia and districts a (Chinese) text names."""
    return [name for _, name in organisations(text)] + [m.group(0) for m in _DISTRICT.finditer(text)]


def names_a_party(s: Signals) -> bool:
    """The question names one school, company, district or consortium."""
    text = s.question.text
    return bool(_parties(text)) or bool(_ENGLISH_PARTY.search(text.lower()))


FEATURES: dict[str, Callable[[Candidate, Signals], float]] = {
    f.__name__: f
    for f in (
        similarity,
        similarity_gap,
        translated_similarity,
        translated_similarity_gap,
        term_coverage,
        context_coverage,
        coverage_gap,
        phrase_coverage,
        key_term_missing,
        heaviest_missing,
        required_missing,
        measure_missing,
        rate_phrase_missing,
        passage_rank,
        has_wanted_span,
        clause_coverage,
        span_proximity,
        subject_only_counted,
        unit_match,
        year_match,
        year_conflict,
        implied_year_conflict,
        level_match,
        level_conflict,
        implied_level_conflict,
        level_unstated,
        case_scope,
        party_named,
        named_part,
        implied_school_scope,
        english_party_named,
        date_precise,
        figure_caption,
        in_case,
        city_sentence,
        increase_asked,
        total_asked,
        table_row,
        length,
        english,
        untranslated,
        best_similarity,
        best_coverage,
        *(_kind_feature(k) for k in ("number", "rate", "date", "rank", "entity", "list")),
        *(_span_for(k) for k in ("number", "rate", "date", "rank", "entity", "list")),
    )
}
FEATURES.update({f.__name__: f for f in (_for_english(n) for n in ("similarity_gap", "coverage_gap", "clause_coverage"))})


def vector(c: Candidate, s: Signals, names: list[str]) -> list[float]:
    return [FEATURES[name](c, s) for name in names]


def wanted_spans(sentence: str, q: Question) -> tuple[Span, ...]:
    spans = find_spans(sentence, q.kind, q.unit)
    if q.kind in ("entity", "list"):
        spans = [sp for sp in spans if sp.text not in q.text]  # the question's own words are not its answer
    elif q.kind in ("number", "rate"):
        stated = set(_FIGURE.findall(q.text))  # nor its own figures ("of the 1502 students, how many…")
        spans = [sp for sp in spans if _FIGURE.search(sp.text).group(0) not in stated]
    return tuple(spans)
