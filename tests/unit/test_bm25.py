"""BM25 (bm25s behind BM25Index) against figures worked out by hand for a three-passage corpus."""

from __future__ import annotations

import math

import pytest

from cqvet_qa.retrieval.bm25 import BM25Index, longest_only
from cqvet_qa.retrieval.tokens import Tokenizer

TEXTS = ["apple banana", "apple cherry", "durian"]  # token counts 2, 2, 1: average 5/3
K1, B = 1.2, 0.75


@pytest.fixture(scope="module")
def bm25() -> BM25Index:
    return BM25Index.build(TEXTS, Tokenizer())


def test_has_and_vocabulary(bm25):
    assert bm25.has("apple") and bm25.has("durian")
    assert not bm25.has("mango")
    assert bm25.vocabulary >= {"apple", "banana", "cherry", "durian"}


def test_idf_is_log_of_passages_over_document_frequency(bm25):
    assert bm25.idf("apple") == pytest.approx(math.log(4 / 2.5))  # (N + 1) / (df + 0.5), N = 3
    assert bm25.idf("banana") == pytest.approx(math.log(4 / 1.5))
    assert bm25.idf("mango") == pytest.approx(math.log(4 / 0.5))  # unknown: the highest


def test_scores_match_the_lucene_formula(bm25):
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))  # bm25s's Lucene idf of a term in one passage of three
    tf_part = 1 / (1 + K1 * (1 - B + B * 2 / (5 / 3)))  # tf 1 in a passage of 2 tokens (Lucene drops k1 + 1)
    scores = bm25.scores(["banana"])
    assert scores.tolist() == pytest.approx([idf * tf_part, 0.0, 0.0], rel=1e-5)
    assert bm25.scores("mango").tolist() == [0.0, 0.0, 0.0]  # no known token: all zero, no error


def test_query_keeps_only_the_longest_of_nested_tokens():
    assert longest_only(["成渝", "地区", "成渝地区双城经济圈", "主题"]) == ["成渝地区双城经济圈", "主题"]
