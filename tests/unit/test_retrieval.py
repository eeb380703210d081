"""The Retriever seam and hybrid fusion over a tiny index built with the hashing embedder."""

from __future__ import annotations

import numpy as np
import pytest

from cqvet_qa.retrieval.base import UnknownDocument
from cqvet_qa.retrieval.hybrid import FusionWeights, HybridRetriever, _standardise
from cqvet_qa.retrieval.indexed import overlaps
from cqvet_qa.retrieval.registry import RETRIEVERS, UnknownRetriever, retriever_named


def test_the_hybrid_retriever_is_the_default_and_names_are_checked(tiny):
    assert retriever_named("hybrid") is HybridRetriever is RETRIEVERS[tiny.settings.retriever]
    assert isinstance(tiny.searcher, HybridRetriever)
    with pytest.raises(UnknownRetriever, match="hybrid"):
        retriever_named("milvus")


def test_search_finds_the_passage_and_reports_its_place(tiny):
    assert tiny.searcher.size == len(tiny.searcher.passages) > 0
    [hit] = tiny.search("甲校毕业生就业率", k=1)
    assert "96.2%" in hit.text and hit.doc == "甲校质量年报" and hit.rank == 1
    assert hit.section.endswith("就业质量")


def test_a_document_filter_keeps_to_that_document(tiny):
    hits = tiny.search("毕业生就业率", k=5, doc="school-b")
    assert hits and {h.doc for h in hits} == {"乙校质量年报"}
    assert tiny.search("毕业生就业率", k=5, doc="甲校质量年报")[0].doc == "甲校质量年报"  # by title too
    with pytest.raises(UnknownDocument):
        tiny.search("就业率", doc="school-c")


def test_each_weight_alone_ranks_by_its_own_retriever(tiny):
    retriever = tiny.searcher
    query = "乙校在校生"
    vector = tiny.embedder.encode_query(query)
    terms = retriever.query_terms(query)
    bm25_only = retriever.rank(vector, terms, 3, FusionWeights(dense=0.0, bm25=1.0))
    best_bm25 = int(np.argmax(retriever.bm25.scores(terms)))
    assert bm25_only[0].chunk_id == retriever.passages[best_bm25].chunk_id
    dense_only = retriever.rank(vector, terms, 3, FusionWeights(dense=1.0, bm25=0.0))
    best_dense = int(np.argmax(retriever.vectors @ vector))
    assert dense_only[0].chunk_id == retriever.passages[best_dense].chunk_id


def test_hits_are_unique_and_never_overlap(tiny):
    hits = tiny.search("在校生 专业 就业率", k=10)
    by_id = {p.chunk_id: p for p in tiny.searcher.passages}
    assert len({h.chunk_id for h in hits}) == len(hits)
    for i, a in enumerate(hits):
        assert not any(overlaps(by_id[a.chunk_id], by_id[b.chunk_id]) for b in hits[i + 1 :])
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_standardised_scores_have_no_spread_when_all_equal():
    assert _standardise(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]
    z = _standardise(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)


def test_an_answer_through_the_extractive_answerer(tiny):
    answer = tiny.ask("甲校2024届毕业生就业率是多少？", mode="extractive")
    assert answer.answered and "96.2%" in answer.text
    assert answer.citations and answer.citations[0].doc == "甲校质量年报"


class TestBoundedMemo:
    def test_a_value_is_made_once_per_key_and_all_are_dropped_past_the_limit(self):
        from cqvet_qa.memo import BoundedMemo

        made = []
        memo = BoundedMemo(limit=2)
        make = lambda key: memo.get_or_make(key, lambda: made.append(key) or key.upper())
        assert [make(k) for k in ("a", "b", "a", "c")] == ["A", "B", "A", "C"] and made == ["a", "b", "c"]
        make("d")  # three kept is past the limit: the memo starts again
        assert set(memo) == {"d"}
