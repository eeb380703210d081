"""Which language a question is in: it steers retrieval weights and the answer's language."""

import re

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str) -> str:
    """'zh' when the question is mainly Chinese, 'en' when it is mainly English words."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    return "en" if latin >= 3 and latin * 2 > cjk else "zh"
