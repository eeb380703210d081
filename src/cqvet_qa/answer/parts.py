"""The report's parts a question points at ("表2-1里…", "3.1里说…", "case 2-7", "挑战三"), and the
parts a passage lies in, read from its section path ("3 产教融合 › 3.1 机制创新 › 【案例 3- 1】").

Readers of a report name its tables, case boxes and sections; in "表3-1里有哪些学校" the words that
matter point at the table, not at any sentence. Under cross-validation held out by fact, the 311 of
6,111 training questions that name a part were right 0.65 of the time (0.82 for the rest) and
wrong 0.12 (0.06), their answer among the candidates only 0.81 of the time (0.97); reading the
part's passages and knowing which sentences lie in it (pipeline.search_with_named_part,
features.named_part) made that 0.68, 0.11 and 0.83.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DASH = r"\s*[-－—–‐]\s*"
_ORDINAL = "一二三四五六七八九"  # the report has eight chapters and three challenges
_ENGLISH_NUMERALS = {"one": 1, "two": 2, "three": 3}


def _numeral(text: str) -> int:
    """A chapter or challenge number written 8, 八 or eight."""
    if text.isdigit():
        return int(text)
    return _ENGLISH_NUMERALS.get(text.lower()) or _ORDINAL.index(text) + 1


# Keys shared by a question's words and a passage's section path.
def _table(m: re.Match) -> str:
    return f"表{m[1]}-{m[2]}"


def _case(m: re.Match) -> str:
    return f"案例{m[1]}-{m[2]}"


def _challenge(m: re.Match) -> str:
    return f"挑战{_numeral(next(g for g in m.groups() if g))}"


def _foreword(m: re.Match) -> str:
    return "前言"


def _appendix(m: re.Match) -> str:
    """The appendix's tables (附表1-1 …) are lines of one section, not tables of their own."""
    return "附表"


# (pattern in the question, the part's key from the match)
_NAMED = [
    (re.compile(r"附表|\bappendix", re.IGNORECASE), _appendix),
    (re.compile(rf"(?:(?<!附)表|(?<!appendix )\btable)\s*(\d+){_DASH}(\d+)", re.IGNORECASE), _table),
    (re.compile(rf"(?:案例|\bcase(?:\s*box)?)\s*(\d+){_DASH}(\d+)", re.IGNORECASE), _case),
    (re.compile(rf"挑战([{_ORDINAL}\d])|\bchallenge\s*(\d|one|two|three)\b", re.IGNORECASE), _challenge),
    (re.compile(rf"第([{_ORDINAL}\d])[章部]分?|\bchapter\s*(\d+)", re.IGNORECASE), lambda m: str(_numeral(m[1] or m[2]))),
    # "3.1里", "section 1.2": a figure such as 3.1% or 3.1万 is not a section
    (re.compile(r"(?<![\d.])([1-9]\.[1-9])(?![\d.%万亿倍元人个所项名])"), lambda m: m[1]),
    (re.compile(r"前言|\bforeword\b|\bpreface\b", re.IGNORECASE), _foreword),
]


def named_parts(question: str) -> frozenset[str]:
    """The parts of the report a question names, as keys like 表2-1, 案例2-7, 3.1, 8, 挑战3, 前言, 附表."""
    return frozenset(key(m) for pattern, key in _NAMED for m in pattern.finditer(question))


# (pattern at the start of one level of a section path, the part's key from the match)
_PATH_PARTS = [
    (re.compile(rf"^(?:【)?案例\s*(\d+){_DASH}(\d+)"), _case),
    (re.compile(rf"^表\s*(\d+){_DASH}(\d+)"), _table),
    (re.compile(rf"^挑战([{_ORDINAL}])"), _challenge),
    (re.compile(r"^(\d+(?:\.\d+)?)\s"), lambda m: m[1]),
    (re.compile(r"^前言"), _foreword),
    (re.compile(r"^附表"), _appendix),
]


@lru_cache(maxsize=512)
def parts_of(section: str) -> frozenset[str]:
    """The parts a passage lies in, from each level of its section path."""
    keys = set()
    for level in section.split("›"):
        level = level.strip()
        keys.update(key(m) for pattern, key in _PATH_PARTS if (m := pattern.match(level)))
    return frozenset(keys)


def in_named_part(named: frozenset[str], section: str) -> bool:
    """The passage lies in every part the question names ("第8章挑战三": chapter 8 and its third challenge)."""
    return bool(named) and named <= parts_of(section)
