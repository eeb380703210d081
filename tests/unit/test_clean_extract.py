"""Cleaning a synthetic PDF extract: whole sentences, pages, section paths, captions, tables.

The synthetic extract below reproduces the debris of the real report (see
/work/shared/README.md): lines wrapped at ~38 CJK characters with blank lines
between them, a line starting with one space at each new PDF page, stray
printed page numbers, picture/data credits, a figure caption running onto a
second line, a case box and a table whose second row is split over three
lines and whose header is repeated after a page break.
"""

from __future__ import annotations

import re

import pytest

from blocks import block_with, squash
from cqvet_qa.corpus.clean import SECTION_SEP, clean_report

EXTRACT_LINES = [
    " 前 言",  # page 1
    "根据教育部关于做好中国职业教育质量报告编制工作的通知要求，重庆组织全市职",
    "业学校编制了学校质量年度报告。",
    "1",  # printed page number
    " 1发展概况",  # page 2
    "1.1 办学规模",
    "2024 年 5 月，重庆市共有职业学校 171所，其中中等职业学校 126所，高等职业",
    "学校 45所。全市职业学校围绕人工智能产业开设了一批新课程，例如 Python",
    "Web 开发等课程，投入财政经费 1507. 68万元完成 21个培训项目，覆盖教师",
    " 2200余人，进一步提升了职业学校教师整体素质，办学条件总体达标率达 88.5 %。",  # page 3
    "（图片来源：重庆市教育委员会）",
    "2",  # printed page number
    "图 1- 1 重庆市职业学校学生在市级公共实训基地开展",
    "技能训练",
    "重庆市持续推进公共实训基地建设，建成市级以上实训基地 200余个，实训条件明",
    "显改善，学生技能水平稳步提升。",
    "（数据来源：重庆市教育事业统计年报）",
    "【案例 1- 1】数字课程建设成效显著",
    "重庆工程职业技术学院建设 Python 程序设计在线课程，累计服务学习者 10万人次",
    "，课程入选国家在线精品课程。",
    "图 1- 2 重庆城市管理职业学院学生在线学习",
    "全市职业学校建成市级在线精品课程 300余门，线上线下混合式教学全面推开，课程资源",
    "共享水平持续提高。",
    "1.2 办学能力",
    "表 1- 1 重庆市职业学校入选国家在线精品课程名单",
    "序号 课程名称 申报单位 课程负责人",
    "1 中国传统技艺 重庆电子科技职业大学 张华敏",
    "2",  # row 2, split over three lines
    "人工智能与大数据导论",
    "重庆电子科技职业大学 童世华",
    " 序号 课程名称 申报单位 课程负责人",  # page 4: the header repeated
    "3 Python程序设计 重庆工程职业技术学院 杨智勇",
    "重庆市职业学校办学条件持续改善，生均教学仪器设备值逐年提高，校企合作不断深",
    "化，职业教育的吸引力进一步增强。",
    "3",  # printed page number
    " 2人才培养",  # page 5
    "2.1 立德树人",
    "重庆市职业学校坚持立德树人根本任务，思政课程与课程思政协同推进。",
    "【案例 2- 1】思政课堂形式创新",  # a box without pictures: nothing but its prose closes it
    "重庆城市管理职业学院开展思政故事会，覆盖学生 8000人次。",
    "重庆城市管理职业学院依托红岩资源，打造了行走的思政课堂。",
    "深化课程思政改革，育人成效持续显现。全市职业学校建成课程思政示范课 120门。",
]
EXTRACT = "\n\n".join(EXTRACT_LINES) + "\n"


@pytest.fixture(scope="module")
def doc():
    return clean_report(EXTRACT, title="测试报告")


# --- synthetic extract ------------------------------------------------------


def test_wrapped_cjk_lines_join_without_space(doc):
    preface = block_with(doc, "根据教育部", kind="paragraph")
    assert preface.text == "根据教育部关于做好中国职业教育质量报告编制工作的通知要求，重庆组织全市职业学校编制了学校质量年度报告。"
    case = block_with(doc, "在线课程", kind="paragraph")
    assert case.text.endswith("累计服务学习者10万人次，课程入选国家在线精品课程。")


def test_paragraph_is_whole_across_a_page_break_and_spaces_in_numbers_go(doc):
    para = block_with(doc, "171所", kind="paragraph")
    assert para.text.startswith("2024年5月，重庆市共有职业学校171所，其中中等职业学校126所，高等职业学校45所。")
    assert "覆盖教师2200余人，进一步提升了职业学校教师整体素质" in para.text  # joined over the page break
    assert "1507.68万元" in para.text
    assert para.text.endswith("办学条件总体达标率达88.5%。")
    assert "2024 年" not in para.text and " 月" not in para.text


def test_latin_words_split_by_a_wrap_keep_one_space(doc):
    para = block_with(doc, "171所", kind="paragraph")
    assert "例如Python Web开发等课程" in para.text
    assert "PythonWeb" not in para.text


def test_pages_are_counted_from_page_start_lines(doc):
    assert block_with(doc, "前言", kind="heading").page == 1
    assert block_with(doc, "根据教育部").page == 1
    assert block_with(doc, "1 发展概况", kind="heading").page == 2
    assert block_with(doc, "图1- 1", kind="caption").page == 3
    assert block_with(doc, "【案例1- 1】", kind="heading").page == 3
    assert block_with(doc, "名单", kind="table").page == 3
    assert block_with(doc, "3 Python程序设计", kind="row").page == 4
    assert block_with(doc, "校企合作不断深化", kind="paragraph").page == 4
    assert block_with(doc, "2 人才培养", kind="heading").page == 5
    assert max(b.page for b in doc.blocks) == 5


def test_table_rows_cite_the_page_they_are_printed_on(doc):
    # Rows 1 and 2 stand on page 3, before the header is repeated at the top of page 4.
    pages = {b.text.split()[0]: b.page for b in doc.blocks if b.kind == "row"}
    assert pages == {"1": 3, "2": 3, "3": 4}


def test_page_numbers_and_credits_are_dropped(doc):
    assert not [b.text for b in doc.blocks if re.fullmatch(r"\d{1,3}", b.text)]
    assert "来源" not in doc.text
    assert block_with(doc, "根据教育部").text.endswith("年度报告。")  # the "1" after it is gone
    assert block_with(doc, "171所").text.endswith("88.5%。")  # neither the credit nor "2" glued on


def test_section_paths(doc):
    assert block_with(doc, "根据教育部").section == ["前言"]
    assert block_with(doc, "171所").section == ["1 发展概况", "1.1 办学规模"]
    assert block_with(doc, "图1- 1").section == ["1 发展概况", "1.1 办学规模"]
    case_heading = block_with(doc, "【案例1- 1】", kind="heading")
    assert case_heading.text.endswith("数字课程建设成效显著")
    assert block_with(doc, "在线课程").section == ["1 发展概况", "1.1 办学规模", "【案例 1- 1】"]
    # a case's figure closes the case box: the prose after it speaks for the city again
    assert block_with(doc, "市级在线精品课程", kind="paragraph").section == ["1 发展概况", "1.1 办学规模"]
    # a new section closes the case box
    assert block_with(doc, "校企合作不断深化").section == ["1 发展概况", "1.2 办学能力"]
    chapter2 = block_with(doc, "立德树人根本任务")
    assert chapter2.section == ["2 人才培养", "2.1 立德树人"]
    assert SECTION_SEP.join(chapter2.section) == "2 人才培养 › 2.1 立德树人"
    assert chapter2.chapter != block_with(doc, "171所").chapter


def test_a_box_without_pictures_ends_where_the_sections_topic_sentence_begins(doc):
    box = ["2 人才培养", "2.1 立德树人", "【案例 2- 1】"]
    assert block_with(doc, "思政故事会").section == box
    assert block_with(doc, "行走的思政课堂").section == box  # opens alike, but names its school first
    assert block_with(doc, "课程思政示范课").section == box[:2]  # the city's figure again


def test_caption_is_its_own_block_and_continues_on_the_next_short_line(doc):
    captions = [b for b in doc.blocks if b.kind == "caption"]
    assert [squash(c.text) for c in captions] == ["图1-1重庆市职业学校学生在市级公共实训基地开展技能训练", "图1-2重庆城市管理职业学院学生在线学习"]
    after = block_with(doc, "公共实训基地建设", kind="paragraph")
    assert after.text.startswith("重庆市持续推进公共实训基地建设")  # prose is not swallowed by the caption
    assert after.text.endswith("学生技能水平稳步提升。")


def test_table_rows_are_whole_and_carry_the_table_title(doc):
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert [squash(t.text) for t in tables] == ["表1-1重庆市职业学校入选国家在线精品课程名单"]
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert [r.text for r in rows] == [
        "1 中国传统技艺 重庆电子科技职业大学 张华敏",
        "2 人工智能与大数据导论 重庆电子科技职业大学 童世华",  # three lines, one row
        "3 Python程序设计 重庆工程职业技术学院 杨智勇",  # repeated header skipped
    ]
    for row in rows:
        assert squash(row.table) == "表1-1重庆市职业学校入选国家在线精品课程名单序号课程名称申报单位课程负责人"
        assert row.section == ["1 发展概况", "1.2 办学能力"]
    assert "序号" not in "".join(r.text for r in rows)


def test_block_spans_index_the_clean_text(doc):
    assert doc.title == "测试报告"
    for b in doc.blocks:
        assert doc.text[b.start : b.end] == b.text


def test_windows_line_endings_and_bom_clean_the_same():
    crlf = "\ufeff" + EXTRACT.replace("\n", "\r\n")
    assert clean_report(crlf, "测试报告").text == clean_report(EXTRACT, "测试报告").text
