"""Splitting a synthetic document to a token limit (a fake tokenizer: one token per character)."""

from __future__ import annotations

import re

from cqvet_qa.corpus.clean import clean_report
from cqvet_qa.passages import SplitSettings, split_document


LONG_SECTION = [
    " 1发展概况",
    "1.1 办学规模",
    "重庆市职业学校办学规模稳步扩大，全市共有职业学校 171所，在校生 95万余人，",
    "中等职业学校 126所，高等职业学校 45所，其中职业本科学校 2所，技工学校 32",
    "所。重庆市持续优化职业学校布局结构，推动中等职业学校分类特色发展，建设",
    "一批优质中等职业学校和优质专业，高等职业学校专业设置与产业匹配度不断提",
    "高，新增专业点 120个，撤销专业点 60个，专业结构更加合理。全市职业学校",
    "校均规模持续扩大，生均教学仪器设备值逐年提高，实训基地条件明显改善，办",
    "学条件总体达标率达 88.5%，较上年提升 6.7%，职业教育吸引力进一步增强。",
]


def test_an_over_long_passage_is_split_to_fit_the_token_limit():
    doc = clean_report("\n\n".join(LONG_SECTION) + "\n", title="t")
    chars = len  # a fake tokenizer: one token per character

    loose = split_document(doc, "t.txt", SplitSettings(chunk_size=240, chunk_overlap=80, max_tokens=60))
    assert max(chars(p.index_text) for p in loose) > 60  # without a token counter nothing is enforced

    tight = split_document(doc, "t.txt", SplitSettings(chunk_size=240, chunk_overlap=80, max_tokens=60), token_count=chars)
    assert len(tight) > len(loose)
    for p in tight:
        assert chars(p.index_text) <= 60, p.index_text
        assert doc.text[p.start : p.end] == p.text
        assert p.section == "1 发展概况 › 1.1 办学规模"
    # nothing is lost: the pieces still cover the whole paragraph
    body = next(b for b in doc.blocks if b.kind == "paragraph")
    covered = set()
    for p in tight:
        covered.update(range(p.start, p.end))
    assert set(range(body.start, body.end)) <= covered
    # the cuts fall on punctuation, so the facts stay readable
    assert any("88.5%" in p.text for p in tight)
    assert all(re.search(r"[，。；]$", p.text) or p.end == body.end for p in tight)
