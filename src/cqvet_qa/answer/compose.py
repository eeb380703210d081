"""The short answer's wording: the figure or name first, then the words of the report around it.

The sentence and its span are chosen by the learned models; here they are worded and cut to at
most MAX_ANSWER_CHARS. A figure from one school's, company's or district's case box is prefixed
with whose it is, so it is never read as the city's.
"""

from __future__ import annotations

import re

from ..retrieval.hybrid import Hit
from ..sentences import SENTENCE
from .english import english_lead
from .features import Candidate, coverage, preceding
from .question import Question
from .spans import Span, districts, organisations
from .types import MAX_ANSWER_CHARS, Answer, Citation

_CLAUSE_BREAK = re.compile(r"[，,：:（）()；]")


def _window(sentence: str, span: Span | None, terms: dict[str, float], limit: int) -> str:
    """The sentence, or when too long, the stretch of it that holds the span, or else most of the question.

    Stretches start at clause boundaries; among equals the earliest wins, so an enumeration
    standing before the words that name it ("“A、B和C”三项机制") stays in.
    """
    if len(sentence) <= limit:
        return sentence
    starts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(sentence)]
    if span is not None:
        fits = [a for a in starts if a <= span.start and span.end <= a + limit - 1]
        start = fits[-1] if fits else max(0, span.start - limit // 2)
    else:
        start = max(starts, key=lambda a: (round(coverage(sentence[a : a + limit - 1], terms), 3), -a))
    body = sentence[start : start + limit - 2]
    return ("…" if start else "") + body + ("…" if start + limit - 2 < len(sentence) else "")


# A case title's name that is only a kind ("产教联合体推动职教与产业高质量发展"): the box tells of
# several such bodies, each named where its part begins.
_KIND_ONLY = re.compile(r"^(?:产教|融合|行业|市域|职业|职教|教育|产业)*(联合体|共同体|联盟|学院|学校|中心)$")


# A school as the report names one: after the city or its district or county ("重庆市…中心",
# "城口县职业学校"), not a body the school built ("…就业数据中心", "工匠学院").
_SCHOOL = re.compile(r"^(?:重庆|[\u4e00-\u9fff]{1,4}[区县]).*(?:学院|学校|大学|中学校?|中心)$")


def scope_of(c: Candidate) -> str:
    """Whose figure a case box's sentence gives: the school, company or consortium it names, else its
    title's; a title naming only a kind (产教联合体) gives way to the last body of that kind named
    before the sentence in its passage, and a title naming none ("电专…", "校企协同…") to the last
    school, district or county named before it in the box."""
    if not c.case:
        return ""
    if names := organisations(c.sentence):
        return names[0][1]
    title = organisations(c.context)
    kind = _KIND_ONLY.match(title[0][1]) if title else None
    if title and not kind:
        return title[0][1]
    before = c.earlier + preceding(c)
    if kind:
        named = [n for _, n in organisations(before) if n.endswith(kind.group(1)) and not _KIND_ONLY.match(n)]
        return named[-1] if named else title[0][1]
    parties = [(at, n) for at, n in organisations(before) if _SCHOOL.search(n)] + districts(before)
    return max(parties)[1] if parties else ""


def table_rows(best: Candidate, candidates: list[Candidate], terms: dict[str, float]) -> list[Candidate]:
    """A list asked of a table is answered by several rows: those of the best row's table that hold
    as much of the question as it does (a school's courses in a list of courses: every row naming the
    school), best first."""
    if not best.table:
        return [best]
    bar = coverage(best.sentence, terms)
    return [best] + [c for c in candidates
                     if c is not best and c.table and c.context == best.context and coverage(c.sentence, terms) >= bar]


def compose(question: Question, c: Candidate, span: Span | None, terms: dict[str, float],
            more_rows: tuple[Candidate, ...] = ()) -> str:
    """The span (with whose it is, for a case) and as much of the sentence (and `more_rows`) as the answer's length allows."""
    scope = scope_of(c)
    quote = "；".join([c.sentence, *(r.sentence for r in more_rows)])
    if question.lang == "en":
        says = "the report says" + (f" (a case of {scope})" if scope else "") + ": “"
        lead = english_lead(span, question.text) if span else ""
        if lead and len(lead) + len(says) + len(quote) + 4 > MAX_ANSWER_CHARS:
            lead = span.text  # the English words would cut the quote, which may hold the figure asked
        head = (f"{lead} — " if lead else "") + says
        return head + _window(quote, span, terms, MAX_ANSWER_CHARS - len(head) - 1) + "”"
    if span is None:
        head = f"{scope}：" if scope else ""
        return head + _window(quote, span, terms, MAX_ANSWER_CHARS - len(head))
    head = f"{scope}：{span.text}（" if scope else f"{span.text}（"
    return head + _window(quote, span, terms, MAX_ANSWER_CHARS - len(head) - 1) + "）"


def answer_rows(question: Question, best: Candidate, candidates: list[Candidate], terms: dict[str, float]) -> list[Candidate]:
    """The candidates an answer quotes: the best one, and for a list asked of a table its table's other matching rows."""
    return table_rows(best, candidates, terms) if question.kind == "list" else [best]


def cite(c: Candidate) -> Citation:
    return Citation(c.hit.doc, c.hit.section, c.hit.page, c.sentence, c.hit.chunk_id)


def not_found(question: Question, hits: list[Hit], closest: list[Candidate] = ()) -> Answer:
    """The honest decline, with the sentences that came closest so the user can judge."""
    if question.lang == "en":
        text = "The report does not state this. The closest passages are cited below."
    else:
        text = "报告中未找到这一信息。下面列出最接近的段落供参考。"
    citations = [cite(c) for c in closest[:2]] or [
        Citation(h.doc, h.section, h.page, _first_sentence(h.text), h.chunk_id) for h in hits[:2]
    ]
    return Answer(text=text, answered=False, citations=citations, hits=hits, question=question.text)


def _first_sentence(text: str) -> str:
    m = SENTENCE.search(text)
    return m.group(0).strip() if m else text[:80]
