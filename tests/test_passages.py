"""Passages: exact slices of the clean text, within the model limit, rows whole, one chapter each."""

from __future__ import annotations

import pytest

from cqvet_qa.corpus.clean import SECTION_SEP
from cqvet_qa.corpus.loader import SourceFile, read_document
from cqvet_qa.passages import SplitSettings, split_document
from repo_data import REPORT

DOC_ID = REPORT.name


@pytest.fixture(scope="module")
def report():
    return read_document(SourceFile(DOC_ID, REPORT, sha256=""))


@pytest.fixture(scope="module")
def settings(assistant):
    return SplitSettings(max_tokens=assistant.embedder.info.max_seq_length)


@pytest.fixture(scope="module")
def passages(report, settings, assistant):
    return split_document(report, DOC_ID, settings, token_count=assistant.embedder.token_count)


def test_every_passage_is_an_exact_slice_of_the_clean_text(report, passages):
    assert len(passages) > 100
    for p in passages:
        assert p.text, p
        assert report.text[p.start : p.end] == p.text, p.chunk_id
        assert p.doc == report.title and p.doc_id == DOC_ID
        assert p.kind in ("prose", "table")
        assert 1 <= p.page <= 94


def test_no_text_of_the_report_is_left_out(report, passages):
    covered = bytearray(len(report.text))
    for p in passages:
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    for b in report.blocks:
        if b.kind in ("paragraph", "caption", "row"):
            lost = "".join(c for i, c in enumerate(b.text, b.start) if not covered[i] and not c.isspace())
            assert not lost, f"{b.kind} on p.{b.page} loses {lost!r}"


def test_no_passage_exceeds_the_model_limit(passages, assistant):
    limit = assistant.embedder.info.max_seq_length
    counts = [assistant.embedder.token_count(p.index_text) for p in passages]
    assert max(counts) <= limit, [p.section for p, n in zip(passages, counts) if n > limit]


def test_table_rows_are_never_cut(report, passages):
    rows = [b for b in report.blocks if b.kind == "row"]
    assert len(rows) > 60
    tables = [p for p in passages if p.kind == "table"]
    for row in rows:
        holders = [p for p in tables if p.start <= row.start and row.end <= p.end]
        assert holders, f"row {row.text[:30]!r} is not whole in any passage"
        assert all(p.context == row.table for p in holders)  # the table title and header go with it


def test_table_passage_for_python_course_names_its_table(passages):
    hit = [p for p in passages if "3 Python程序设计 重庆工程职业技术学院 杨智勇" in p.text]
    assert len(hit) == 1
    assert hit[0].section.startswith("2 人才培养 › 2.2 技能成长 › 表2- 1")
    assert "课程负责人" in hit[0].index_text


def test_passages_never_cross_a_chapter(report, passages):
    chapter_titles = {b.chapter: b.text for b in report.blocks if b.kind == "heading" and len(b.section) == 1}
    for p in passages:
        units = {b.chapter for b in report.blocks if b.kind != "heading" and b.start < p.end and b.end > p.start}
        assert len(units) == 1, f"{p.chunk_id} spans chapters {units}"
        first = p.section.split(SECTION_SEP)[0]
        assert first == chapter_titles[units.pop()]


def test_passage_sections_and_pages_match_their_blocks(report, passages):
    hit = [p for p in passages if "基本办学条件总体达标率达88.5%" in p.text]
    assert hit and all(p.section == "1 发展概况 › 1.2 办学能力" and p.page == 14 for p in hit)


def test_chunk_ids_are_unique_and_stable(report, settings, assistant, passages):
    again = split_document(report, DOC_ID, settings, token_count=assistant.embedder.token_count)
    assert [p.chunk_id for p in again] == [p.chunk_id for p in passages]
    assert len({p.chunk_id for p in passages}) == len(passages)
    assert all(p.chunk_id.startswith("cq-vet-quality-report-2024-") for p in passages)
