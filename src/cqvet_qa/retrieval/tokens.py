"""Tokens for BM25: jieba, taught the report's own terms, without filler words.

jieba's stock dictionary splits the names that questions are about (school and
company names, “quoted” programmes, 《titles》) into common words, and a
question's filler words (什么、多少、哪些…) would otherwise weigh as much as
its subject. The terms are mined from the corpus at build time and saved with
the index, so queries are cut exactly like the passages.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources

import jieba

jieba.setLogLevel(logging.WARNING)

_QUOTED = re.compile(r"[“\"]([^“”\"\n]{2,16})[”\"]")
_TITLED = re.compile(r"《([^《》\n]{2,40})》")
_ORGANISATION = re.compile(
    r"(?:重庆|中国|四川|成都)[\u4e00-\u9fff（）()]{2,18}?"
    r"(?:职业技术大学|职业大学|职业技术学院|职业学院|高等专科学校|大学|学院|学校|中学校|中学|中心|"
    r"有限责任公司|股份有限公司|有限公司|集团|研究院|联合体|共同体)"
)
_KEEP = re.compile(r"[\w%.]", re.UNICODE)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = resources.files("cqvet_qa.data").joinpath("stopwords_zh.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip())


def mine_terms(texts: list[str]) -> list[str]:
    """Names worth keeping whole: quoted terms, titles and organisation names."""
    terms: set[str] = set()
    for text in texts:
        squashed = re.sub(r"\s+", "", text)
        for pattern in (_QUOTED, _TITLED):
            terms.update(m.group(1) for m in pattern.finditer(squashed))
        terms.update(m.group(0) for m in _ORGANISATION.finditer(squashed))
    return sorted(t for t in terms if not re.search(r"[，。；：、]", t))


def _stock_dictionary() -> tuple[dict[str, int], int]:
    """jieba's own dictionary, loaded once per process (1-2 s each time otherwise).

    It is loaded into jieba's default tokenizer, which the part-of-speech tagger (jieba.posseg,
    used by the answer code) shares: one copy in memory instead of two (~80 MB, 0.8 s).
    """
    jieba.dt.initialize()
    return jieba.dt.FREQ, jieba.dt.total


class Tokenizer:
    """A jieba tokenizer of its own (no global state) with the corpus terms added."""

    def __init__(self, terms: list[str] = ()) -> None:
        self.terms = list(terms)
        self._jieba = jieba.Tokenizer()
        freq, total = _stock_dictionary()
        self._jieba.FREQ, self._jieba.total = dict(freq), total  # a copy: add_word changes it
        self._jieba.initialized = True
        for term in self.terms:
            self._jieba.add_word(term, freq=max(2000, 200 * len(term)))
        self._stop = stopwords()

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        return [
            tok
            for tok in self._jieba.cut_for_search(re.sub(r"\s+", " ", text), HMM=False)
            if tok.strip() and tok not in self._stop and _KEEP.search(tok)
        ]
