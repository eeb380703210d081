"""Cleaning the real report's PDF extract: chapters, tables and pages where the PDF prints them.

The synthetic cases live in tests/unit/test_clean_extract.py (no model, no report).
"""

from __future__ import annotations

import re

import pytest

from cqvet_qa.corpus.clean import SECTION_SEP, clean_report
from blocks import block_with, squash
from repo_data import REPORT


@pytest.fixture(scope="module")
def report():
    return clean_report(REPORT.read_text(encoding="utf-8"), title="report")


def test_real_report_has_eight_chapters_in_order(report):
    chapters = [b for b in report.blocks if b.kind == "heading" and re.match(r"\d ", b.text) and len(b.section) == 1]
    assert [c.text for c in chapters] == [
        "1 发展概况", "2 人才培养", "3 产教融合", "4 服务贡献",
        "5 文化传承", "6 国际合作", "7 发展保障", "8 面临挑战",
    ]
    units = [c.chapter for c in chapters]
    assert units == sorted(set(units))
    pages = [c.page for c in chapters]
    assert pages == sorted(pages)


def test_real_report_88_5_percent_sentence_is_in_section_1_2(report):
    block = block_with(report, "职业学校基本办学条件总体达标率达88.5%，较上年提升6.7%。")
    assert SECTION_SEP.join(block.section) == "1 发展概况 › 1.2 办学能力"
    assert block.kind == "paragraph"
    assert block.page == 14


def _table_2_1_rows(report):
    return [b for b in report.blocks if b.kind == "row" and squash(b.table).startswith("表2-1")]


def test_real_report_row_3_of_table_2_1(report):
    rows = _table_2_1_rows(report)
    assert len(rows) == 52
    assert rows[2].text == "3 Python程序设计 重庆工程职业技术学院 杨智勇"
    # row 1 is split over four lines in the extract: one row all the same
    assert squash(rows[0].text) == "1中国传统技艺重庆电子科技职业大学（原重庆电子工程职业学院）张华敏"
    assert "课程负责人" in rows[2].table


def _raw_page_of(line_fragment: str) -> int:
    page = 0
    for line in REPORT.read_text(encoding="utf-8").splitlines():
        if line.startswith(" ") and not line.startswith("  "):
            page += 1
        if line_fragment in line:
            return page
    raise AssertionError(f"{line_fragment!r} not in the extract")


def test_real_report_table_row_page_is_where_the_row_is_printed(report):
    row3 = _table_2_1_rows(report)[2]
    assert row3.page == _raw_page_of("3 Python程序设计")  # page 21; the table runs on to page 23


def test_real_report_has_no_picture_credits_or_page_numbers(report):
    assert not [b.text for b in report.blocks if "图片来源" in b.text or "数据来源" in b.text]
    assert not [b.text for b in report.blocks if re.fullmatch(r"\d{1,3}", b.text)]


def test_real_report_pages_run_in_order_within_the_pdf(report):
    pages = [b.page for b in report.blocks]
    assert pages == sorted(pages)
    assert pages[0] == 1 and pages[-1] <= 94  # 94 page-start lines in the extract
    assert pages[-1] >= 90
