"""Extractive answers on the real report: question analysis, the traps, follow-ups, English."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cqvet_qa.answer.question import HIGHER, SECONDARY, analyse, resolve_follow_up
from cqvet_qa.answer.types import MAX_ANSWER_CHARS


@pytest.mark.parametrize(
    "question, kind, years, level, unit",
    [
        ("2024年重庆中职学生升学比例是多少？", "rate", ["2024"], SECONDARY, ""),
        ("高职毕业生本省去向落实率是多少？", "rate", [], HIGHER, ""),
        ("用人单位对高职学校毕业生的满意度是多少？", "rate", [], HIGHER, ""),  # a 度 given in %
        ("重庆有多少所职业本科学校？", "number", [], (), "所"),
        ("教育部是哪天发函同意设立重庆电子科技职业大学的？", "date", [], (), ""),
        ("重庆五一职业技术学院打造了哪些党建品牌？", "list", [], (), ""),
        ("重庆总成绩排全国第几？", "rank", [], (), "第"),
        ("是哪所学校构建了党建统领模式？", "entity", [], (), "school"),
        ("这所学校打造的留学品牌叫什么名字？", "entity", [], (), "name"),  # a brand's name, not a person's
        ("那位选手叫什么名字？", "entity", [], (), "person"),
        ("What was the 2024 placement rate of secondary vocational graduates?", "rate", ["2024"], SECONDARY, ""),
        ("How much money did the schools receive from patents?", "number", [], (), "元"),
        ("How many of the students at Chongqing's vocational schools came from Laos?", "number", [], (), "人"),
    ],
)
def test_question_analysis(question, kind, years, level, unit):
    q = analyse(question)
    assert (q.kind, q.years, q.level, q.unit) == (kind, years, level, unit)
    assert q.lang == ("en" if re.search("[A-Za-z]{4}", question) else "zh")


def test_two_things_asked_is_answered_with_the_sentence_giving_both(assistant):
    assert analyse("原本计划招多少学生，最后实际招到多少？").kind == "compound"
    answer = assistant.ask("国家在线精品课《Python程序设计》是哪所学校申报的？课程负责人是谁？")
    assert_right_or_silent(answer, "重庆工程职业技术学院")


def test_follow_up_inherits_the_previous_question():
    history = [("2024年办学条件总体达标率是多少？", "88.5%")]
    assert resolve_follow_up("那2023年呢？", history) == "2023年办学条件总体达标率是多少？"
    assert resolve_follow_up("中职呢？", [("高职毕业生本省去向落实率是多少？", "65.78%")]) == "中职毕业生本省去向落实率是多少？"
    assert resolve_follow_up("重庆有多少所高职院校？", history) == "重庆有多少所高职院校？"  # a full question stands alone


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_right_or_silent(answer, expected: str, trap: str = ""):
    """The product's rule: an answer leads with the report's figure, or says the report does not give it."""
    if answer.answered:
        head = answer.text.split("（")[0]
        assert expected in answer.text and (not trap or trap not in head), answer.text
    else:
        assert "未找到" in answer.text or "does not state" in answer.text


def _check_citations(answer):
    assert answer.citations
    hit_text = {h.chunk_id: h.text for h in answer.hits}
    for c in answer.citations:
        assert c.chunk_id in hit_text and isinstance(c.page, int) and c.page > 0
        assert c.section and c.doc
        # the quote is a sentence of the report: it starts inside the cited passage
        assert _squash(c.quote)[:8] in _squash(hit_text[c.chunk_id])


@pytest.mark.parametrize(
    "question, expected, trap",
    [
        ("2024年办学条件总体达标率是多少？", "88.5%", "81.7%"),
        ("2024年重庆中职学生升学比例是多少？", "79.2%", "76.8%"),  # 2023 and 2024 side by side
        ("2024年高职毕业生毕业去向落实率是多少？", "90.76%", "98.65%"),  # 高职 and 中职 in one sentence
        ("2024年中职毕业生毕业去向落实率是多少？", "98.65%", "90.76%"),
        ("高职毕业生本省去向落实率是多少？", "65.78%", "83.15%"),
        ("重庆有多少所职业本科学校？", "2所", "45所"),  # neighbouring items of one enumeration
    ],
)
def test_the_asked_figure_wins_over_its_neighbours(assistant, question, expected, trap):
    answer = assistant.ask(question)
    assert_right_or_silent(answer, expected, trap)
    assert len(answer.text) <= MAX_ANSWER_CHARS
    _check_citations(answer)
    if answer.answered:
        assert any(expected in _squash(c.quote) for c in answer.citations)


def test_follow_up_question_is_answered_in_full(assistant):
    first = assistant.ask("2024年中职毕业生毕业去向落实率是多少？")
    second = assistant.ask("那高职呢？", history=[("2024年中职毕业生毕业去向落实率是多少？", first.text)])
    assert second.question == "2024年高职毕业生毕业去向落实率是多少？"
    assert_right_or_silent(second, "90.76%", "98.65%")


def test_english_question_gets_an_english_answer_with_the_figure(assistant):
    answer = assistant.ask("What was the graduate placement rate of higher vocational graduates in 2024?")
    assert answer.answered and answer.text.startswith("90.76%")
    assert "the report says" in answer.text
    _check_citations(answer)


def test_an_english_question_is_searched_with_its_chinese_terms_too(assistant):
    question = "How many Luban workshops did Chongqing build?"
    rendering = assistant.searcher.chinese_rendering(question)
    assert "鲁班工坊" in rendering.split()
    encode = assistant.embedder.encode_query
    assert np.allclose(assistant.query_vector(question), encode(question) + encode(rendering))
    assert assistant.searcher.chinese_rendering("有多少个鲁班工坊？") == ""  # a Chinese question is searched as asked
    assert any("鲁班工坊" in hit.text for hit in assistant.search(question, k=3))


def test_what_the_report_does_not_say_is_not_answered(assistant):
    answer = assistant.ask("重庆职业学校有多少名外籍校长？")
    assert not answer.answered, answer.text
    assert "未找到" in answer.text
    assert answer.hits  # the nearest passages are still shown


def test_colloquial_question_words_are_searched_in_the_reports_wording(assistant):
    from cqvet_qa.retrieval.synonyms import formalise

    assert formalise("2024年中职学校撤掉了多少个专业点？") == "2024年中职学校撤销了多少个专业点？"
    assert formalise("外国留学生一共有多少人？") == "留学生共计有多少人？"  # the longest colloquial word wins
    terms = assistant.query_terms("中职学校撤掉了多少个专业点？")
    assert "撤销" in terms and "撤掉" not in terms


def test_respectively_pairs_each_figure_with_its_item():
    from cqvet_qa.answer.respectively import paired_item

    sentence = "2024年，全市中、高职学生升学比例分别超过65%、20%，为培养大国工匠提供了有力保障。"
    assert paired_item(sentence, sentence.index("20%"))[0].startswith("高职")
    assert paired_item(sentence, sentence.index("65%"))[0].endswith("中职")  # "中、高职" names both levels
    inline = "毕业去向落实率分别为高职90.76%、中职98.65%"
    assert paired_item(inline, inline.index("98.65%")) is None  # the level stands next to each figure


def test_respectively_gives_the_higher_vocational_figure(assistant):
    answer = assistant.ask("What proportion of Chongqing's higher vocational students went on to further study in 2024?")
    assert_right_or_silent(answer, "20%", "79.2%")


def test_sentence_without_the_questions_rarest_word_loses(assistant):
    # "涉农专业点56个…中职36个" names 中职 and 专业点 but not 撤销, the word the question turns on
    answer = assistant.ask("2024年重庆中职学校撤掉了多少个专业点？")
    assert_right_or_silent(answer, "10个", "36个")


@pytest.mark.xfail(strict=True, reason="the right sentence is chosen, but the span rule leads with the figure nearest the "
                   "question's rarest word (10.81万人), not the 其中 part of the stated total; see README, remaining failures")
def test_part_of_a_stated_total_is_the_figure_after_qizhong(assistant):
    q = "Of the more than 1.1 million technical and skilled workers supplied by Chongqing's vocational schools, how many were high-quality skilled talents?"
    answer = assistant.ask(q)
    assert_right_or_silent(answer, "19.28万人", "10.81万人")


def test_places_and_totals_must_be_in_the_answer_sentence():
    from cqvet_qa.answer.required import required_terms

    assert required_terms("2024年重庆职业教育经费总投入一共是多少？", "zh", {"重庆": 0.19, "投入": 3.5}) == ["总投入"]
    assert required_terms("How many came from Thailand?", "en", {"泰国": 3.54, "重庆": 0.19, "学生": 1.18}) == ["泰国"]


@pytest.mark.parametrize(
    "question",
    [
        "2024年重庆职业教育经费总投入一共是多少？",  # only its parts are given (生均拨款, 专项经费…)
        "How many of the international students enrolled at Chongqing's vocational schools in 2024 came from Thailand?",
    ],
)
def test_a_figure_for_something_broader_does_not_answer(assistant, question):
    answer = assistant.ask(question)
    assert not answer.answered, answer.text


def test_a_place_the_sentence_names_is_still_answered(assistant):
    answer = assistant.ask("重庆城市管理职业学院的老挝留学生陈筱芳获得了什么奖？")
    assert answer.answered and "一等奖" in answer.text, answer.text


def test_a_compound_counts_once_in_the_search(assistant):
    from cqvet_qa.retrieval.bm25 import longest_only

    assert longest_only(["成渝", "地区", "双城", "经济圈", "成渝地区双城经济圈", "活动", "主题"]) == ["成渝地区双城经济圈", "活动", "主题"]
    hits = assistant.search("2024年成渝地区双城经济圈职业教育活动周的主题口号是什么？", k=5)
    assert any("一技在手" in _squash(h.text) for h in hits)


@pytest.mark.parametrize(
    "question",
    ["2024年成渝地区双城经济圈职业教育活动周的主题口号是什么？", "成渝地区双城经济圈职业教育活动周是以什么为主题举办的？"],
)
def test_a_quoted_name_belongs_to_its_own_item_of_an_enumeration(assistant, question):
    # "开展“落实…匠心筑梦职启未来”主题团日、2024年成渝地区双城经济圈…" names the theme of a 团日, not of the 活动周
    assert_right_or_silent(assistant.ask(question), "一技在手，一生无忧")


def test_a_company_named_in_latin_letters_is_a_candidate():
    from cqvet_qa.answer.spans import find_spans

    row = "南亚 斯里兰卡 农育结合，支持南 亚减贫发展 Diom 集团 畜牧兽医、园 艺技术专业群 重庆三峡职业学 院"
    assert [s.text for s in find_spans(row, "entity", "company")] == ["Diom 集团"]
    assert "SAP 公司" in [s.text for s in find_spans("与德国 SAP 公司和华为技术有限公司合作", "entity", "company")]


def test_a_quoted_name_the_sentence_calls_a_brand_answers_a_brand_question(assistant):
    # "实施“语言+专业+文化”三维一体育人模式…打造“巴渝时珍学院”留学品牌": only the second is a 品牌
    assert_right_or_silent(assistant.ask("重庆医药高等专科学校打造的来华留学品牌叫什么名字？"), "巴渝时珍学院", "语言+专业+文化")


def test_an_elided_level_list_names_both_levels(assistant):
    answer = assistant.ask("全市中职学生升学比例超过多少？")  # "全市中、高职学生升学比例分别超过65%、20%"
    assert_right_or_silent(answer, "65%", "20%")


def test_a_digit_inside_a_latin_name_is_not_a_count():
    from cqvet_qa.answer.spans import find_spans

    caption = "图2- 7重庆工商职业学院巫妍婷获得第47届世界技能大赛3D数字游戏艺术项目冠军"
    assert find_spans(caption, "number") == []  # 第47 is an ordinal, 3D a name
    assert [s.text for s in find_spans("斩获3枚金牌、1枚银牌和1个优胜奖", "number")] == ["3枚", "1枚", "1个"]


def test_a_measure_the_report_never_gives_is_declined(assistant):
    answer = assistant.ask("2024年重庆中职学生辍学率是多少？")  # the report gives the progression rate, 79.2%, not this
    assert not answer.answered and "79.2%" not in answer.text
    assert answer.citations  # the closest sentences are shown


def test_a_follow_up_about_another_year_never_repeats_the_first_years_figure(assistant):
    first = assistant.ask("2024年办学条件总体达标率是多少？")
    assert_right_or_silent(first, "88.5%", "81.7%")
    second = assistant.ask("那2023年呢？", history=[("2024年办学条件总体达标率是多少？", first.text)])
    assert second.question == "2023年办学条件总体达标率是多少？"
    assert_right_or_silent(second, "81.7%", "88.5%")


def test_an_answer_carries_its_confidence(assistant):
    answer = assistant.ask("重庆在全国职业院校技能大赛上已经连续多少年保持西部第一了？")
    assert answer.answered and answer.text.startswith("16年") and 0.5 < answer.confidence <= 1.0
