"""分别 pairs the items of one enumeration with the figures of another, in order.

"全市中、高职学生升学比例分别超过65%、20%" gives 20% to 高职: the words just
before a figure (or the nearest school level named before it) would give it
to whichever item comes last, and the 、 between the figures would push each
one away from the question's terms.
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"[，,；;。：:]")
_ELLIPSIS = re.compile(r"([中高])、(?=[中高]职)")  # "中、高职" names 中职 and 高职


def expand_levels(text: str) -> str:
    """"中、高职" written out as "中职、高职", so that both levels are seen named."""
    return _ELLIPSIS.sub(r"\1职、", text)


def paired_item(sentence: str, start: int) -> tuple[str, int] | None:
    """The item that 分别 pairs with the figure at `start`, and where the 分别 stands; None when unpaired."""
    at = sentence.rfind("分别", 0, start)
    if at < 0 or _BREAK.search(sentence, at, start):
        return None
    stop = _BREAK.search(sentence, start)
    figures = sentence[at + 2 : stop.start() if stop else len(sentence)]
    left = max((m.end() for m in _BREAK.finditer(sentence, 0, at)), default=0)
    items = expand_levels(sentence[left:at]).split("、")
    index = sentence.count("、", at, start)
    if len(items) < 2 or len(items) != figures.count("、") + 1:
        return None
    return items[index], at
