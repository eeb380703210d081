"""Colloquial question words in the report's formal wording (data/synonyms_zh.tsv).

People ask "撤掉了多少个专业点" where the report says 撤销: a word the report
never uses matches no passage and counts against every sentence's coverage.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern, dict[str, str]]:
    text = resources.files("cqvet_qa.data").joinpath("synonyms_zh.tsv").read_text(encoding="utf-8")
    table = dict(
        line.split("\t", 1) for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#")
    )
    alternatives = sorted(table, key=len, reverse=True)  # "外国留学生" before "外国学生"
    return re.compile("|".join(map(re.escape, alternatives))), table


def formalise(text: str) -> str:
    """The text with every colloquial word replaced by the report's word for it."""
    pattern, table = _pattern()
    return pattern.sub(lambda m: table[m.group(0)], text)
