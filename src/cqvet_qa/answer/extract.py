"""Extractive answers: pick the sentence and the span that answer the question.

Every sentence of the top passages is scored by how much of the question's
weight (IDF of its terms) it covers, in the clause around a candidate and in
the sentence; candidates of the wanted kind near the question's terms win, and
the question's year and school level (中职/高职) break ties between figures
that stand side by side. When nothing covers the question well enough, the
answer says the report does not give it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..retrieval.hybrid import Hit
from .question import HIGHER, SECONDARY, Question
from .required import required_terms
from .respectively import expand_levels, paired_item
from .spans import Span, find_spans
from .types import MAX_ANSWER_CHARS, Answer, Citation

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
_CLAUSE_BREAK = re.compile(r"[，,：:（）()；]")
_ITEM_BREAK = re.compile(r"[，,：:（）()；、]")
_COMMA = re.compile(r"[，,；。]")
_COMPARED = re.compile(r"(较|比|相比|同比|与)\s*20\d{2}\s*(年|届)?")
_SEPARATOR = re.compile(r"[、，,；;]")
_YEAR = re.compile(r"(?<!\d)20\d{2}(?!\d)")
# Share of the question's term weight a sentence must hold to be an answer. English questions
# carry several alternative translations of each word, of which one is expected to match.
MIN_COVERAGE = {"zh": 0.5, "en": 0.25}


@dataclass
class Candidate:
    score: float
    coverage: float
    span: Span | None
    sentence: str
    hit: Hit


def _coverage(text: str, terms: dict[str, float]) -> float:
    total = sum(terms.values()) or 1.0
    return sum(w for t, w in terms.items() if t in text) / total


_FRAME = re.compile(r"在[^，,；;。（）()]{2,40}(中|上|期间|方面)")


def _clause_bounds(sentence: str, start: int, end: int, breaks: re.Pattern = _CLAUSE_BREAK) -> tuple[int, int]:
    """The clause around start..end, with the 在…中 clause that sets its scene before it:
    "在2023年全国职业院校大赛教学能力比赛中，重庆市27支代表队获一等奖13项"."""
    left = max((m.end() for m in breaks.finditer(sentence, 0, start)), default=0)
    right = next((m.start() for m in breaks.finditer(sentence, end)), len(sentence))
    if left and sentence[left - 1] in "，,":
        before = max((m.end() for m in breaks.finditer(sentence, 0, left - 1)), default=0)
        if _FRAME.fullmatch(sentence, before, left - 1):
            left = before
    return left, right


def _adjacent_pairs(question: Question, terms: dict[str, float]) -> list[tuple[str, str]]:
    """Terms that stand next to each other in the question ("大赛|教学" of "技能大赛教学能力比赛")."""
    at = {t: question.text.lower().find(t) for t in terms}
    return [(a, b) for a in terms for b in terms if at[a] >= 0 and at[b] == at[a] + len(a)]


def _qualified(clause: str, pairs: list[tuple[str, str]]) -> bool:
    """The clause puts other words between terms the question joins: "技能大赛德育与思想政治教育
    课程教学能力比赛" is a narrower contest than the question's "技能大赛教学能力比赛"."""
    for a, b in pairs:
        if a + b in clause or a not in clause or b not in clause:
            continue
        for m in re.finditer(re.escape(a), clause):
            gap = clause.find(b, m.end())
            if 0 < gap - m.end() <= 15 and not _CLAUSE_BREAK.search(clause, m.end(), gap):
                return True
    return False


def _context_bonus(question: Question, sentence: str, span: Span) -> float:
    """Year and school-level agreement of the words just before a figure."""
    left, right = _clause_bounds(sentence, span.start, span.end)
    near = sentence[max(0, span.start - 14) : span.start]
    clause = sentence[left:right]
    bonus = 0.0
    if question.years:
        clause, near = _COMPARED.sub("", clause), _COMPARED.sub("", near)  # "较2023年提升" is a 2024 figure
        years = set(_YEAR.findall(clause)) | set(_YEAR.findall(near))
        if any(y in _COMPARED.sub("", sentence[max(0, span.start - 9) : span.start]) for y in question.years):
            bonus += 0.8  # "2024年为79.2%": the figure is that year's
        elif years & set(question.years):
            bonus += 0.3
        elif years:
            bonus -= 0.3
        sentence_years = set(_YEAR.findall(_COMPARED.sub("", sentence)))
        if sentence_years and not sentence_years & set(question.years):
            bonus -= 0.2  # "2024年度，…达88.5%" does not answer a question about 2023
    if question.level:
        level = _level_of(sentence, span)
        if level == question.level:
            bonus += 0.3
        elif level:
            bonus -= 0.4
    if question.unit and span.unit:
        bonus += 0.3 if span.unit.endswith(question.unit) else -0.3
    if re.match(r"以上|以下|左右", sentence[span.end : span.end + 2]) or re.match(r"超过|不足|近|约|超", span.text):
        bonus -= 0.3  # a bound ("达到75%以上") answers "how much" less well than the figure itself
    if re.search(r"(提升|提高|增加|增长|上升)(至|到)$", sentence[max(0, span.start - 3) : span.start]):
        bonus += 0.15  # "从20%提升至81.7%": the figure reached, not the starting point
    return bonus


_LEVEL_WORD = re.compile("|".join(SECONDARY + HIGHER))


def _level_of(sentence: str, span: Span) -> tuple[str, ...]:
    """The school level a figure belongs to: the first named in its 分别 item ("中职升高职" is 中职's),
    else the last level named before it."""
    paired = paired_item(sentence, span.start)
    named = _LEVEL_WORD.findall(paired[0] if paired else sentence[: span.start])
    if not named:
        return ()
    level = named[0] if paired else named[-1]
    return SECONDARY if level in SECONDARY else HIGHER


def _anchor(sentence: str, span: Span) -> Span:
    """Where a figure's distance to the question's terms is measured from: a 分别 list counts from 分别."""
    paired = paired_item(sentence, span.start)
    return Span(span.text, paired[1], span.end, span.unit) if paired else span


def _distance_penalty(sentence: str, span: Span, terms: dict[str, float]) -> float:
    """How far the span is from the question's terms in the sentence, the heaviest terms counting most."""
    heaviest = sorted(terms.items(), key=lambda kv: -kv[1])[:4]
    total = sum(w for _, w in heaviest) or 1.0
    penalty = 0.0
    for term, weight in heaviest:
        best = None
        for m in re.finditer(re.escape(term), sentence):
            gap = span.start - m.end() if m.end() <= span.start else (m.start() - span.end) * 1.5
            between = sentence[min(m.end(), span.end) : max(m.start(), span.start)]
            gap = max(gap, 0) + 20 * len(_SEPARATOR.findall(between))  # "45所、职业本科学校2所": another item
            best = gap if best is None else min(best, gap)
        penalty += weight * (0.3 if best is None else min(best / 60, 0.3))
    return penalty / total


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage as the answerer reads it: whole sentences, and the heading it sits under."""

    hit: Hit
    text: str  # the passage widened to sentence boundaries
    context: str  # section path and heading (a table's title and header)
    table: bool = False  # the passage is table rows


# How much the sentence and the clause around a candidate count: a figure sits in the clause that
# names it, while a name (a school, a brand) is often the subject at the head of the sentence.
_CLAUSE_WEIGHT = {"number": (0.5, 1.0), "rate": (0.5, 1.0), "date": (0.5, 1.0), "rank": (0.5, 1.0)}


def _passage_year_bonus(question: Question, text: str) -> float:
    """A passage about the year asked is likelier to hold its figures."""
    if not question.years:
        return 0.0
    years = set(_YEAR.findall(_COMPARED.sub("", text)))
    if years & set(question.years):
        return 0.15
    return -0.15 if years else 0.0


def _level_conflict(question: Question, sentence: str) -> bool:
    """The sentence speaks of the other school level only (高职 when 中职 is asked, or back)."""
    if not question.level:
        return False
    other = HIGHER if question.level == SECONDARY else SECONDARY
    sentence = expand_levels(sentence)
    return any(w in sentence for w in other) and not any(w in sentence for w in question.level)


KEY_TERM_MISSING = 0.3
QUALIFIED = 0.3  # clause coverage lost to words the question does not have between its terms
# What a name question asks for, in the words the report calls such names by (slogans are 主题).
_NAME_CUES = {"主题": "主题", "口号": "主题|口号", "品牌": "品牌", "称号": "称号", "theme": "主题", "slogan": "主题|口号",
              "motto": "主题|口号", "brand": "品牌", "title": "称号"}


def _name_cue(question: Question) -> str:
    """The words ("主题|口号") a name question asks for, as a regex alternation; "" for other questions."""
    if question.kind != "entity":
        return ""
    lowered = question.text.lower()
    return "|".join(cue for word, cue in _NAME_CUES.items() if word in lowered)


def _is_called(sentence: str, span: Span, cue: str) -> bool:
    """A quoted name the sentence calls what is asked: 以“X”为主题, 主题为“X”, 打造“X”留学品牌."""
    before, after = sentence[max(0, span.start - 5) : span.start], sentence[span.end : span.end + 6]
    return re.match(rf"[”》][^，。；、“《]{{0,3}}?({cue})", after) is not None or re.search(rf"({cue})[为是：:]?[“《]$", before) is not None


def _breaks_down(sentence: str, span: Span, stated: list[str]) -> bool:
    """The figure is the first part (其中…) of a total the question states: "Of the 1.1 million
    workers, how many were …" is answered by "人才110万余人，其中高素质技能型人才19.28万人"."""
    for figure in stated:
        for m in re.finditer(rf"(?<![\d.]){re.escape(figure)}(?![\d.])", sentence[: span.start]):
            between = sentence[m.end() : span.start]
            if "其中" in between and not re.search(r"\d", between):
                return True
    return False


def _key_term(question: Question, terms: dict[str, float]) -> str:
    """The question's rarest word, which a Chinese answer sentence should hold.

    An English question's terms are alternative translations, none of which a sentence must hold.
    """
    if question.lang != "zh" or not terms:
        return ""
    return max(terms, key=terms.get)


def candidates(question: Question, evidence: list[Evidence], terms: dict[str, float]) -> list[Candidate]:
    sentence_weight, clause_weight = _CLAUSE_WEIGHT.get(question.kind, (1.0, 0.3))
    key = _key_term(question, terms)
    pairs = _adjacent_pairs(question, {t: w for t, w in terms.items() if not t.startswith("∅")})
    name_cue = _name_cue(question)
    stated = [t for t in terms if re.fullmatch(r"\d+(?:\.\d+)?", t) and t not in question.years]
    found: list[Candidate] = []
    for item in evidence:
        passage_prior = 0.1 / item.hit.rank + _passage_year_bonus(question, item.text)
        context = f"{item.context} {item.text}"
        for m in _SENTENCE.finditer(item.text):
            sentence = m.group(0).strip()
            if len(sentence) < 4 or _level_conflict(question, sentence):
                continue
            prior = passage_prior
            if key and key not in (context if item.table else sentence):
                prior -= KEY_TERM_MISSING  # "撤销了多少个专业点" is not answered by a sentence without 撤销
            own = 0.5 if item.table else 0.7  # a table row means little without its title and header
            sentence_cov = own * _coverage(sentence, terms) + (1 - own) * _coverage(context, terms)
            spans = find_spans(sentence, question.kind, question.unit)
            if not spans:
                if question.kind in ("entity", "list", "compound", "other"):
                    found.append(Candidate(sentence_cov + prior - 0.1, sentence_cov, None, sentence, item.hit))
                continue
            for span in spans:
                if question.kind in ("entity", "list") and span.text in question.text:
                    continue  # the question's own words are not its answer
                # a name's own item of an enumeration: "开展“X”主题团日、2024年…活动周" gives X to 团日
                breaks = _ITEM_BREAK if question.kind == "entity" else _CLAUSE_BREAK
                left, right = _clause_bounds(sentence, span.start, span.end, breaks)
                clause_cov = _coverage(sentence[max(0, left - 6) : right], terms)
                if _qualified(sentence[left:right], pairs):
                    clause_cov -= QUALIFIED
                score = sentence_weight * sentence_cov + clause_weight * clause_cov + prior
                score += _context_bonus(question, sentence, span) - clause_weight * _distance_penalty(sentence, _anchor(sentence, span), terms)
                if any(t in span.text for t in terms):
                    score -= 0.2  # an answer restates the question's words less often than it adds to them
                if name_cue and _is_called(sentence, span, name_cue):
                    score += 0.3
                if question.kind == "number" and _breaks_down(sentence, span, stated):
                    score += 0.3
                found.append(Candidate(score, sentence_cov, span, sentence, item.hit))
    return sorted(found, key=lambda c: -c.score)


def _clause_text(c: Candidate) -> str:
    if c.span is None:
        return c.sentence
    left = max((m.end() for m in _COMMA.finditer(c.sentence, 0, c.span.start)), default=0)
    right = next((m.start() for m in _COMMA.finditer(c.sentence, c.span.end)), len(c.sentence))
    clause = c.sentence[left:right].strip("，,；。 ")
    if clause.count("（") < clause.count("）") or clause.count("(") < clause.count(")"):
        clause = clause.rstrip("）)")
    return clause.lstrip("（(") if clause.count("（") > clause.count("）") else clause


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PART = re.compile(r"[^，,；;。]+")


def _focus(sentence: str, terms: dict[str, float], limit: int) -> str:
    """A sentence too long to quote whole, cut to start at its part that holds most of the question.

    Its head is often the lead-in ("合川区谋划建设市级产教联合体，…") and the answer a later
    item ("…，重庆市牧哥食品有限公司、重庆人文科技学院联合建设火锅食材产业产教联合体").
    """
    if len(sentence) <= limit:
        return sentence
    parts = [m.group(0) for m in _PART.finditer(sentence)]
    best = max(range(len(parts)), key=lambda i: _coverage(parts[i], terms))
    return "，".join(parts[best:])


def compose(question: Question, best: Candidate, terms: dict[str, float]) -> str:
    clause = best.span.text if question.kind == "list" and best.span else _clause_text(best)
    if best.span is None:
        clause = _focus(best.sentence, terms, MAX_ANSWER_CHARS - 20)
    if question.kind == "list" or best.span is None:
        core = _shorten(clause if len(clause) >= 12 else best.sentence, MAX_ANSWER_CHARS - 20)
        if question.lang == "en":
            return _shorten(f"The report says: “{core}”", MAX_ANSWER_CHARS)
        return _shorten(core, MAX_ANSWER_CHARS)
    span = best.span.text
    if question.lang == "en":
        return _shorten(f"{span} — the report says: “{clause}”", MAX_ANSWER_CHARS)
    return _shorten(span if clause == span else f"{span}（{clause}）", MAX_ANSWER_CHARS)


def _other_level_fits_better(question: Question, evidence: list[Evidence], terms: dict[str, float], best: float) -> bool:
    """The report states it for the other school level only: 高职 figures do not answer a 中职 question."""
    other = [
        _coverage(m.group(0), terms)
        for item in evidence
        for m in _SENTENCE.finditer(item.text)
        if _level_conflict(question, m.group(0))
    ]
    return bool(other) and max(other) >= best + 0.2


def not_found(question: Question, hits: list[Hit]) -> Answer:
    if question.lang == "en":
        text = "The report does not state this. The closest passages are cited below."
    else:
        text = "报告中未找到这一信息。下面列出最接近的段落供参考。"
    citations = [
        Citation(h.doc, h.section, h.page, _first_sentence(h.text), h.chunk_id) for h in hits[:2]
    ]
    return Answer(text=text, answered=False, citations=citations, hits=hits, question=question.text)


def _first_sentence(text: str) -> str:
    m = _SENTENCE.search(text)
    return m.group(0).strip() if m else text[:80]


def extract_answer(question: Question, evidence: list[Evidence], terms: dict[str, float]) -> Answer:
    hits = [item.hit for item in evidence]
    enough = MIN_COVERAGE[question.lang]
    required = required_terms(question.text, question.lang, terms)
    ranked = [
        c
        for c in candidates(question, evidence, terms)
        if c.coverage >= enough and all(t in f"{c.hit.section} {c.sentence}" for t in required)
    ]
    if not ranked or _other_level_fits_better(question, evidence, terms, ranked[0].coverage):
        return not_found(question, hits)
    best = ranked[0]
    citation = Citation(best.hit.doc, best.hit.section, best.hit.page, best.sentence, best.hit.chunk_id)
    return Answer(text=compose(question, best, terms), answered=True, citations=[citation], hits=hits, question=question.text)
