"""Words an answer sentence must hold before the question counts as answered.

Coverage of the question's weight lets a sentence miss a word, which suits the
asker's own phrasing but not the words that narrow what is asked: a place
("came from Thailand" → 泰国) or a total ("经费总投入"). A sentence on all
international students, or on one 投入 among many, does not answer those, and
the honest answer is that the report does not say.
"""

from __future__ import annotations

from functools import lru_cache

# A place name rarer than this IDF narrows the question; 重庆 (the report's own city) does not.
PLACE_MIN_WEIGHT = 2.0


def required_terms(text: str, lang: str, terms: dict[str, float]) -> list[str]:
    """Places among the question's terms, and "总X" totals of a Chinese question."""
    required = [t for t, w in terms.items() if w >= PLACE_MIN_WEIGHT and _is_place(t)]
    return required + (_totals(text) if lang == "zh" else [])


def _totals(text: str) -> list[str]:
    """"经费总投入" asks a total, which one 投入 figure does not give; jieba cuts it 总|投入."""
    import jieba

    words = jieba.lcut(text)
    totals = [w for w in words if w.startswith("总") and len(w) >= 3]  # 总成绩
    totals += [w + nxt for w, nxt in zip(words, words[1:]) if w == "总" and len(nxt) >= 2]
    return totals


def _is_place(term: str) -> bool:
    return term in _place_names()


@lru_cache(maxsize=1)
def _place_names() -> frozenset[str]:
    """The words jieba's dictionary tags as place names (ns).

    Read straight from the dictionary file (0.2 s): setting up jieba.posseg to tag one word
    costs 1.2 s and 50 MB for its table of every word's tag, on a user's first question.
    """
    import jieba

    with jieba.dt.get_dict_file() as f:
        lines = f.read().decode("utf-8").splitlines()
    return frozenset(line.split(" ", 1)[0] for line in lines if line.endswith(" ns"))
