"""What a question asks: its language, the kind of answer, the year and the school level.

The report holds traps — 2023 and 2024 figures side by side, 高职 and 中职
rates in one sentence — so the year and the level a question names must steer
which figure is picked, and a follow-up ("那2023年呢？") must inherit the rest
of the previous question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..language import detect_language
from ..retrieval.translate import singular, spelled_out
from .parts import named_parts

# Cues in order of precedence: the first kind whose pattern matches wins.
_KIND_CUES_ZH = [
    ("list", r"哪些|哪几|哪两|哪三|哪四|哪五|分别是|分别有|和哪|与哪|包括什么|有什么|是哪家企业和哪所|谁.{0,6}(和|与)"),
    ("rate", r"率|比例|占比|百分之|百分比|匹配度|满意度|认可度|比重|增长了?多少|增幅|提升了?多少"),
    ("date", r"什么时候|啥时候|何时|几时|哪天|哪一天|哪年|哪一年|几月|几号|日期|时间段|哪几年|起止"),
    ("rank", r"第几|排名(?!第)|排第|名次|位次|什么等级|几等奖|什么奖"),  # "连续多少年排名第一" states the rank
    ("number", r"多少|几个|几项|几所|几家|几条|几年|几门|几支|几名|几枚|几次|几种|几批|数量|人数|金额|规模|几|价值|产值|经费|资金|投入|到款"),
    ("entity", r"哪所|哪家|哪个|哪位|哪里|什么|啥|谁|名字|名称|叫|是哪|文号|字号"),
]
_KIND_CUES_EN = [
    ("rate", r"\b(percentage|proportion|rate|ratio|share|percent|satisfaction)\b|by what percent|what %|% of"),
    ("date", r"\bwhen\b|what date|which (day|month|year)s?|what (day|month|year)s?|\bperiod\b|cover\b"),
    # a rank the question states ("ranked 1st") is not asked: "how many years has it ranked 1st" counts
    ("rank", r"\brank(ed|ing|s)?\b(?! (?:1st|first|top|no\.|number one|\d))|what place|which place|position\b"
             r"|what level of (award|prize)|what prize"),
    ("list", r"\b(which|what) (are|were) the\b|\bname the\b|which (countries|schools|companies|projects)"),
    ("number", r"how (many|much)|number of|headcount|amount|total|income|funding|\bfunds?\b|revenue|\bcount\b|\bvalue\b"
               r"|\bworth\b|budget|\bspen[dt]\b|spending|\bcost\b|\bpay\b|salary"),
    ("entity", r"\bwhich\b|\bwho\b|\bwhat\b|\bwhere\b|\bname\b|nationality"),
]

# "which …" or "who" with no count asked ("how many", "total") asks a name whatever money or value
# words follow it; "which year" and "which place" keep their own kinds above.
_NAME_ASKED_EN = re.compile(r"\bwho\b|\bwhich\s+(?!(?:year|month|day|place|position|rank)s?\b)[a-z]")
_COUNT_ASKED_EN = re.compile(r"how (?:many|much)|number of|\btotal\b|\bamount\b|\bcount\b")

_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_ASKING = r"多少|几[个项所家条年门人名]?|哪[所家个些位里]|谁|什么"
SECONDARY = ("中职", "中等职业")
HIGHER = ("高职", "高等职业")
_LEVEL_EN = {"secondary": SECONDARY, "higher vocational": HIGHER, "junior college": HIGHER}

# Units a "how many …" question expects: its counter word first, else what it counts.
_UNIT_CUES = [
    (r"几所|多少所", "所"),
    (r"几家|多少家", "家"),
    (r"几项|多少项", "项"),
    (r"几条|多少条", "条"),
    (r"几年|多少年|连续多少", "年"),
    (r"几门|多少门", "门"),
    (r"多少人|几人|几名|多少名|人数", "人"),
    (r"几个|多少个", "个"),
    (r"几场|多少场", "场"),
    (r"多少钱|金额|经费|资金|收入|到款|产值|投入|income|funding|\bfunds?\b|money|revenue|yuan|worth|output value|spending|\bpay\b|salary|budget|\bcost\b|\bspen[dt]\b|value of", "元"),
    (r"\bschools\b", "所"),
    (r"\bmajors\b|\bprogram(?:me)?s\b|\bbases\b|\bplatforms\b|\bcent(?:er|re)s\b|\bteams\b|\bworkshops\b", "个"),
    (r"\bcompanies\b|\benterprises\b", "家"),
    (r"\bprojects\b|\bpatents\b|\bawards\b|\bprizes\b|\bitems\b", "项"),
    (r"\bmeasures\b", "条"),
    (r"\byears\b", "年"),
    (r"\bcourses\b", "门"),
    (r"学生|在校生|招生|学员|教师|老师|选手|毕业生|\bstudents\b|\bpeople\b|\bpersons?\b|\btalents\b|\bworkers\b|\bgraduates\b"
     r"|\bteachers\b|\bmentors\b|\bstaff\b|\btrainees\b|\bcontestants\b|\bparticipants\b|\bphds\b", "人"),
]


_CHANGE_ASKED = re.compile(r"增加|增长|提升|提高|新增|多了|多出|涨|increase|grow|more than (?:last|the previous|in)|up by (?:how|what)|\brise|\brose")
_DAY_ASKED = re.compile(r"几号|哪天|哪一天|几月几日|具体日期|哪日|what date|which day|what day|exact date")
_MONTH_ASKED = re.compile(r"几月|哪个月|哪年哪月|which month|what month")


def asks_change(text: str) -> bool:
    """The question asks by how much something changed ("比2023年多了多少"), not its level."""
    return bool(_CHANGE_ASKED.search(text.lower()))


def date_precision(text: str) -> str:
    """"日" when a question asks the day, "月" when it asks the month, else ""."""
    lowered = text.lower()
    return "日" if _DAY_ASKED.search(lowered) else "月" if _MONTH_ASKED.search(lowered) else ""


_HOW_MANY = re.compile(r"多少|几|how (many|much)|number of")


def _counted_unit(lowered: str) -> str:
    """The unit of what is counted: the cue nearest after "how many" ("how many of the students at
    the schools" counts people; a question without one, its first cue), else the one nearest before
    it, where a Chinese question names what it measures ("毕业生…月收入多少" asks money, not people)."""
    ask = _HOW_MANY.search(lowered)
    tail = lowered[ask.start() :] if ask else lowered
    found = [(m.start(), i, u) for i, (pattern, u) in enumerate(_UNIT_CUES) if (m := re.search(pattern, tail))]
    if found:
        return min(found)[2]
    head = lowered[: ask.start()] if ask else ""
    before = [(m.start(), -i, u) for i, (pattern, u) in enumerate(_UNIT_CUES) for m in re.finditer(pattern, head)]
    return max(before)[2] if before else ""


_ENTITY_CUES = [
    (r"文号|字号|发文号|document number|file number|\bref(erence)? (no|number)", "docno"),  # 渝府办发〔2023〕69号
    (r"谁|哪位|负责人|\bwho\b|whose", "person"),
    (r"品牌|口号|主题|名称|称号|平台|\bbrand\b|slogan|theme|called|platform|\btitle\b", "name"),
    (r"名字叫|叫什么名字", "person"),  # "品牌叫什么名字" asks the brand's name, not a person's
    (r"叫什么", "name"),
    (r"哪个城市|哪座城市|哪个区县|哪个区|哪个县|哪个省|哪个国家|哪国|哪里|在哪|哪儿|什么地方|\bwhere\b"
     r"|which (city|district|county|province|country)|what (city|country)", "place"),
    (r"哪所|学校|学院|大学|\bschool\b|college|institution|university", "school"),
    (r"企业|公司|集团|\bcompany\b|enterprise|\bfirm\b|group", "company"),
]


@dataclass
class Question:
    text: str
    lang: str
    kind: str  # number | rate | date | rank | entity | list | compound | other
    years: list[str] = field(default_factory=list)
    level: tuple[str, ...] = ()  # SECONDARY or HIGHER when the question names one
    unit: str = ""  # expected unit for number questions
    parts: frozenset[str] = frozenset()  # the report's tables, cases and sections it points at (parts.py)


def analyse(text: str) -> Question:
    lang = detect_language(text)
    # English cues are read with the asker's shortenings spelled out ("hi-voc", "doc no.")
    spelled = spelled_out(text) if lang == "en" else ""
    lowered = f"{text.lower()} {spelled}" if lang == "en" else text.lower()
    cues = _KIND_CUES_EN if lang == "en" else _KIND_CUES_ZH
    kind = next((k for k, pattern in cues if re.search(pattern, lowered)), "other")
    if lang == "en" and kind == "number" and _NAME_ASKED_EN.search(lowered) and not _COUNT_ASKED_EN.search(lowered):
        kind = "entity"  # "which college got the city's funding": a name, its money word part of the thing named
    if lang == "en" and kind in ("entity", "other", "number") and _asks_several(spelled):
        kind = "list"
    if len(re.findall(_ASKING, text)) >= 2 and re.search(r"[，,？?].*(" + _ASKING + ")", text):
        kind = "compound"  # two things asked ("计划招多少，实际招到多少？"): answer with the sentence giving both
    if kind == "other":  # a question mixing the two languages asks in either ("when was the 共同体 launched?")
        other = _KIND_CUES_ZH if lang == "en" else _KIND_CUES_EN
        kind = next((k for k, pattern in other if re.search(pattern, lowered)), kind)
    level: tuple[str, ...] = ()
    if any(w in text for w in SECONDARY):
        level = SECONDARY
    elif any(w in text for w in HIGHER):
        level = HIGHER
    else:
        level = next((v for k, v in _LEVEL_EN.items() if k in lowered), ())
    if re.search(_ENTITY_CUES[0][0], lowered):
        kind = "entity"  # "the document number of …" asks a name (渝府办发〔2023〕69号), not a count
    unit = _counted_unit(lowered) if kind == "number" else ""
    if kind == "entity":  # which sort of name
        unit = next((u for pattern, u in _ENTITY_CUES if re.search(pattern, lowered)), "")
    if kind == "rank":  # an ordinal ("排第几") or an award level ("什么等级的奖")
        unit = "奖" if re.search(r"等级|几等奖|什么奖|award|prize", lowered) else "第"
    return Question(text=text, lang=lang, kind=kind, years=_YEAR.findall(text), level=level, unit=unit,
                    parts=named_parts(text))


_WHICH = re.compile(r"\b(?:which|what)\s+((?:[a-z0-9-]+(?:\s+|$)){0,6})")
_PHRASE_END = frozenset("did does do is are was were has have had got get in on of for to from at by with "
                        "r make made set won"
                        .split())
_DETERMINERS = frozenset({"the", "a", "an", "its", "their", "his", "her"})
_NOT_NOUNS = frozenset({"does", "has", "was", "is", "its", "this", "his", "yes", "us", "as", "less", "plus"})
_SEVERAL = re.compile(r"\bname them\b|\bwhich ones\b|\blist (?:the|all)\b|\bwhat (?:are|r) the\b"
                      r"|\b(?:which|what) (?:two|three|four|five|six|[2-9])\b")


def _asks_several(lowered: str) -> bool:
    """An English question asks for several things: "which courses did…", "which 2 vocational
    universities…", "name them"; "which college…" asks one, "how many courses" a count."""
    if re.search(r"how (?:many|much)|number of", lowered):
        return False
    if _SEVERAL.search(lowered):
        return True
    for m in _WHICH.finditer(lowered):
        words: list[str] = []
        following = m.group(1).split() + [lowered[m.end():].split(" ", 1)[0]]
        for word, after in zip(following, following[1:]):
            if word in _PHRASE_END or after in _DETERMINERS:  # "which university co-runs the …": a verb
                break
            words.append(word)
        head = words[-1] if words else ""
        if head and head.isalpha() and head not in _NOT_NOUNS and singular(head) != head:
            return True
    return False


_FOLLOW_UP = re.compile(r"^(那|那么|那在|那年|还有|and|what about|how about)|呢[？?]?$", re.IGNORECASE)


def resolve_follow_up(text: str, history: list[tuple[str, str]]) -> str:
    """Make "那2023年呢？" a full question by carrying over the previous one."""
    previous = ""
    for past_question, _ in history:
        previous = _complete(past_question, previous)
    return _complete(text, previous)


def _complete(text: str, previous: str) -> str:
    text = text.strip()
    if not previous or not _FOLLOW_UP.search(text) or len(text) > 40:
        return text
    completed = previous
    years = _YEAR.findall(text)
    if years:
        old = _YEAR.findall(previous)
        completed = _YEAR.sub(years[0], completed, count=1) if old else f"{years[0]}年{completed}"
    for this, that in ((SECONDARY, HIGHER), (HIGHER, SECONDARY)):
        if any(w in text for w in this):
            for a, b in zip(that, this):
                completed = completed.replace(a, b)
    if completed == previous:  # nothing to substitute: ask the new words about the old subject
        rest = re.sub(r"^(那么|那|还有|and|what about|how about)\s*|呢?[？?]$", "", text, flags=re.IGNORECASE)
        completed = f"{previous.rstrip('？?')} {rest}".strip()
    return completed
