"""The learned answer layer, unit by unit, on sentences written here: no model, no index."""

from __future__ import annotations

import json
from importlib import resources
from types import SimpleNamespace

import numpy as np
import pytest

from cqvet_qa.answer.compose import answer_rows, compose, scope_of
from cqvet_qa.answer.confidence import (CONFIDENCE_FEATURES, agreeing_share, change_asked, date_imprecise, figure_unfound,
                                        names_level, names_party, names_year, question_terms, rival_share, unit_conflict)
from cqvet_qa.answer.features import (FEATURES, Candidate, Signals, Terms, coverage, date_precise, english_party_named,
                                      figure_caption,
                                      implied_level_conflict, implied_year_conflict, level_conflict, level_unstated, measure_missing, named_part,
                                      phrase_coverage, rate_phrase_missing, unit_match, wanted_spans, year_conflict)
from cqvet_qa.answer.parts import named_parts, parts_of
from cqvet_qa.answer.pipeline import PART_PASSAGES, search_with_named_part
from cqvet_qa.answer.question import analyse, asks_change
from cqvet_qa.answer.ranker import MODEL_FILE, AnswerModel, Logistic, Ranker
from cqvet_qa.answer.spans import organisations
from cqvet_qa.answer.span_features import SPAN_FEATURES, SpanContext, clause_of, is_change, level_match, reached, year_before
from cqvet_qa.answer.training import MAX_WRONG, _folds, choose_threshold, fact_groups, fit_trees, model_json, outcome
from cqvet_qa.retrieval.base import Hit


def candidate(sentence: str, question: str, section: str = "1 发展概况 › 1.2 办学能力", context: str = "",
              before: str = "", doc: str = "报告") -> Candidate:
    q = analyse(question)
    spans = wanted_spans(sentence, q)
    hit = Hit(1, 1.0, before + sentence, doc, section, 3, "c1")
    return Candidate(sentence, hit, f"{section} {context}", False, "【案例" in section, spans=spans, span=spans[0] if spans else None)


def signals(question: str, terms: dict[str, float]) -> Signals:
    return Signals(analyse(question), terms, [], max(terms, key=terms.get), 0.9, 0.8)


class TestFeatures:
    def test_a_measure_the_sentence_does_not_name_counts_against_it(self):
        q = "2024年重庆中职学生辍学率是多少？"
        s = signals(q, {"中职": 2.6, "辍学率": 1.5, "2024": 1.3})
        near_miss = candidate("近两年中等职业学校学生升学比例达到75%以上（2024年为79.2%）。", q)
        assert measure_missing(near_miss, s) == 1.0
        named = candidate("2024年中职学生辍学率为0.5%。", q)
        assert measure_missing(named, s) == 0.0

    def test_a_sentence_of_another_year_conflicts_but_a_comparison_year_does_not(self):
        q = "2023年办学条件总体达标率是多少？"
        s = signals(q, {"达标率": 4.1, "2023": 1.3})
        assert year_conflict(candidate("2024年度总体达标率达88.5%。", q), s) == 1.0
        assert year_conflict(candidate("2023年总体达标率为81.7%。", q), s) == 0.0
        assert year_conflict(candidate("总体达标率达88.5%，较2023年提升6.7%。", q), s) == 0.0  # 较2023年 is not its year

    def test_the_other_school_level_conflicts(self):
        q = "2024年中职毕业生毕业去向落实率是多少？"
        s = signals(q, {"落实率": 4.0})
        assert level_conflict(candidate("高等职业学校毕业生毕业去向落实率90.76%。", q), s) == 1.0
        assert level_conflict(candidate("中、高职毕业去向落实率分别为98.65%、90.76%。", q), s) == 0.0  # 中、高职 names both

    def test_a_sentence_without_a_year_speaks_of_the_last_one_named_before_it(self):
        q = "2023年纵向科研经费到款额是多少？"
        s = signals(q, {"纵向": 5.0, "到款额": 4.0, "2023": 1.3})
        after_2024 = candidate("纵向科研经费到款额8007.07万元；", q, before="2024年重庆市职业学校横向技术服务到款额20109.81万元；")
        assert implied_year_conflict(after_2024, s) == 1.0
        by_the_document = candidate("纵向科研经费到款额8007.07万元；", q, section="4 服务贡献", doc="质量年度报告（2024年度）")
        assert implied_year_conflict(by_the_document, s) == 1.0
        after_2023 = candidate("纵向科研经费到款额8007.07万元；", q, before="2023年，")
        assert implied_year_conflict(after_2023, s) == 0.0
        change = "比2023年多了多少？"  # asks about 2024: the compared year is not the one asked
        assert implied_year_conflict(after_2024, signals(change, {"纵向": 5.0})) == 0.0

    def test_a_sentence_without_a_level_speaks_of_the_last_one_named_before_it(self):
        q = "中职学校聘请的行业导师有多少人？"
        s = signals(q, {"行业导师": 5.0})
        higher = candidate("聘请行业导师7537人。", q, before="高等职业学校教职工总数34174人，其中专任教师29027人；")
        assert implied_level_conflict(higher, s) == 1.0
        secondary = candidate("聘请行业导师1428人。", q, before="中等职业学校教职工总数6万人；")
        assert implied_level_conflict(secondary, s) == 0.0

    def test_a_level_asked_of_a_sentence_about_every_school_is_unstated(self):
        q = "中职学生的双证书获取率是多少？"
        s = signals(q, {"双证书": 5.0, "获取率": 4.0})
        assert level_unstated(candidate("全市职业学校学生“双证书”获取率超87%。", q), s) == 1.0
        assert level_unstated(candidate("中等职业学校学生“双证书”获取率超90%。", q), s) == 0.0
        assert level_unstated(candidate("学生“双证书”获取率超90%。", q, section="2 人才培养 › 2.1 中职教育"), s) == 0.0
        unlevelled = "学生的双证书获取率是多少？"
        assert level_unstated(candidate("全市职业学校学生“双证书”获取率超87%。", unlevelled), signals(unlevelled, {"双证书": 5.0})) == 0.0

    def test_a_rate_phrase_of_the_question_must_stand_in_the_sentence_however_jieba_cut_it(self):
        q = "中职毕业生毕业三年后的职位晋升比例是多少？"
        s = signals(q, {"晋升": 4.0, "比例": 1.0})
        assert rate_phrase_missing(candidate("毕业去向落实率保持在95%以上。", q), s) == 1.0
        assert rate_phrase_missing(candidate("毕业三年职位晋升比例平均数为49.39%。", q), s) == 0.0
        q = "有多大比例的毕业生留在重庆？"  # "多大比例" names no measure
        assert rate_phrase_missing(candidate("留渝就业比例为80%。", q), signals(q, {"留": 1.0})) == 0.0

    def test_words_the_question_writes_together_count_only_where_the_sentence_keeps_them_together(self):
        q = "高职 在线课程 开发 多少门 2024"
        s = signals(q, {"高职": 2.0, "在线": 3.0, "课程": 1.5, "开发": 2.0, "门": 0.5})
        together = candidate("2024年，重庆市高等职业院校累计开发在线课程2542门。", q)
        apart = candidate("校企合作开发课程9150门，建成省级以上在线精品课程562门。", q)
        assert phrase_coverage(together, s) == 1.0 and phrase_coverage(apart, s) == 0.0
        assert phrase_coverage(apart, signals("在线 课程", {"在线": 3.0, "课程": 1.5})) == 0.0  # apart in the question too

    def test_a_pictures_caption_is_marked(self):
        q = "2024年高职毕业去向落实率是多少？"
        s = signals(q, {"落实率": 4.0})
        assert figure_caption(candidate("图2- 9 2023-2024届重庆市高等职业学校毕业生毕业去向落实率", q), s) == 1.0
        assert figure_caption(candidate("（左图）2023年10月，重庆市域产教联合体成立大会召开。", q), s) == 1.0
        assert figure_caption(candidate("高等职业学校毕业生毕业去向落实率90.76%。", q), s) == 0.0

    def test_a_date_question_asking_the_day_prefers_a_date_that_gives_it(self):
        q = "中国西部职业教育评估平台哪天正式成立的？"
        s = signals(q, {"评估": 4.0})
        assert date_precise(candidate("2024年3月15日，评估平台建设推进会举行。", q), s) == 1.0
        assert date_precise(candidate("2023年，评估平台正式成立。", q), s) == -1.0
        year = "评估平台哪年成立的？"
        assert date_precise(candidate("2023年，评估平台正式成立。", year), signals(year, {"评估": 4.0})) == 0.0

    def test_a_count_of_people_or_events_is_met_by_its_person_times_and_sessions(self):
        q = "职业教育活动月一共搞了多少场活动？"
        s = signals(q, {"活动月": 5.0})
        assert unit_match(candidate("开展各级各类活动851场次。", q), s) == 1.0
        assert unit_match(candidate("开设线下教学班2560个。", q), s) == 0.0
        people = "参赛学生有多少人？"
        assert unit_match(candidate("参赛学生达28620人次。", people), signals(people, {"参赛": 3.0})) == 1.0

    def test_an_english_question_naming_a_school_meets_its_chinese_name_through_the_translation(self):
        q = "Chongqing Vocational Institute of Engineering - how many PhDs did it hire in 2024"
        s = signals(q, {"工程": 1.8, "博士": 4.7, "学院": 1.2})
        assert english_party_named(candidate("重庆工程职业技术学院2024年引进博士16人。", q), s) == 1.0
        assert english_party_named(candidate("重庆电子科技职业大学引进博士18人。", q), s) == -1.0

    def test_a_sentence_holding_one_translation_of_an_english_word_holds_the_word(self):
        weights = {"产业学院": 4.0, "设立": 4.0, "成立": 3.0, "组建": 3.0}
        sentence = "共同组建55个现代产业学院。"
        assert coverage(sentence, weights) == pytest.approx(7 / 14)  # each translation counted apart
        assert coverage(sentence, Terms(weights, [["设立", "成立", "组建"]])) == pytest.approx(7 / 8)
        assert coverage("现代产业学院。", Terms(weights, [["设立", "成立", "组建"]])) == pytest.approx(4 / 8)

    def test_the_questions_own_figure_is_not_its_answer(self):
        q = "Of the 1502 international students in 2024, how many came from Thailand?"
        assert [sp.text for sp in candidate("接收国外留学生人数1502人，其中泰国120人。", q).spans] == ["120人"]

    def test_every_feature_is_a_number_for_any_candidate(self):
        q = "How many Luban workshops?"
        c, s = candidate("建成鲁班工坊2个。", q), signals(q, {"鲁班": 5.0, "工坊": 4.0})
        assert all(isinstance(f(c, s), float) for f in FEATURES.values())


class TestConfidence:
    def test_repeating_the_same_figure_is_no_rival(self):
        q = "2024年办学条件总体达标率是多少？"
        same = [candidate(t, q) for t in ("总体达标率达88.5%。", "总体达标率88.5%，较上年提升6.7%。", "达标率从20%提升至81.7%。")]
        assert rival_share(np.array([0.8, 0.6, 0.2]), same, signals(q, {"达标率": 4.1})) == pytest.approx(0.2 / 1.6)

    def test_the_share_of_the_choice_reads_alike_however_sure_the_ranker_is(self):
        q = "how many modern industry colleges were set up?"
        c = [candidate(t, q) for t in ("共同组建55个现代产业学院。", "累计成立现代产业学院80余个。", "组建55个产业学院。")]
        s = signals(q, {"产业学院": 4.0})
        unsure, sure = np.array([0.08, 0.02, 0.01]), np.array([0.8, 0.3, 0.2])
        assert agreeing_share(unsure, c, s) > 0.8 and agreeing_share(sure, c, s) > 0.8  # 55个 leads both
        assert agreeing_share(np.array([0.08, 0.07, 0.01]), c, s) < 0.6  # a rival close behind

    def test_a_figure_date_or_count_of_the_asked_thing_must_be_there(self):
        q = "第五届西部职业教育论坛是哪天开的？"
        s = signals(q, {"论坛": 5.0})
        assert figure_unfound(np.array([0.9]), [candidate("举办第五届西部职业教育论坛。", q)], s) == 1.0
        cut_short = candidate("2024年，举办第五届西部职业教育论坛。", q)
        assert date_imprecise(np.array([0.9]), [cut_short], s) == 1.0
        assert date_imprecise(np.array([0.9]), [candidate("2024年5月9日，举办第五届西部职业教育论坛。", q)], s) == 0.0
        q = "双师型教师一共有多少人？"
        s = signals(q, {"双师型": 5.0})
        assert unit_conflict(np.array([0.9]), [candidate("双师型教师比例较上年增长4个百分点。", q)], s) == 1.0
        assert unit_conflict(np.array([0.9]), [candidate("双师型教师1.2万人。", q)], s) == 0.0

    def test_what_the_question_itself_narrows_is_read_whatever_the_sentence(self):
        p, c = np.array([0.9]), [candidate("全市职业学校在校生102.4万人。", "在校生多少人？")]
        narrow = signals("重庆工程职业技术学院2024年中职在校生比2023年增加了多少？", {"在校生": 4.0, "增加": 1.0})
        plain = signals("在校生多少人？", {"在校生": 4.0})
        assert [f(p, c, narrow) for f in (names_party, names_level, names_year, change_asked)] == [1.0, 1.0, 1.0, 1.0]
        assert [f(p, c, plain) for f in (names_party, names_level, names_year, change_asked)] == [0.0, 0.0, 0.0, 0.0]
        english = signals("how many studnets?", Terms({"学生": 3.0, "∅studnets": 3.0}))
        assert question_terms(p, c, english) == 1.0  # a word the glossary could not translate weighs in no sentence

    def test_choose_threshold_keeps_wrong_answers_within_the_limit(self):
        rng = np.random.default_rng(0)
        right = rng.random(400) < 0.7
        confidence = np.where(right, rng.uniform(0.4, 1.0, 400), rng.uniform(0.0, 0.7, 400))
        unanswerable = np.zeros(400, dtype=bool)
        threshold, result = choose_threshold(confidence, right.astype(int), unanswerable)
        assert result["wrong"] <= MAX_WRONG < outcome(confidence, right.astype(int), unanswerable, 0.0)["wrong"]
        assert result["accuracy"] > 0.4 and 0.4 < threshold < 0.7  # declines the low scores only


def span_context(sentence: str, figure: str, question: str, terms: dict[str, float]) -> SpanContext:
    q = analyse(question)
    span = next(sp for sp in wanted_spans(sentence, q) if sp.text.endswith(figure))
    return SpanContext(span, sentence, clause_of(sentence, span), q, terms)


class TestSpanFeatures:
    def test_a_change_counts_for_an_increase_question_and_against_a_level_question(self):
        sentence = "聘请行业导师7537人，较2023年增加1382人。"
        assert is_change(span_context(sentence, "1382人", "行业导师比2023年多了多少人？", {"行业": 2.0})) == 1.0
        assert is_change(span_context(sentence, "1382人", "聘请了多少行业导师？", {"行业": 2.0})) == -1.0
        assert is_change(span_context(sentence, "7537人", "聘请了多少行业导师？", {"行业": 2.0})) == 0.0

    def test_respectively_gives_each_figure_its_level(self):
        sentence = "全市中、高职学生升学比例分别超过65%、20%。"
        q = "高职学生升学比例是多少？"
        assert level_match(span_context(sentence, "20%", q, {"升学": 3.0})) == 1.0
        assert level_match(span_context(sentence, "65%", q, {"升学": 3.0})) == -1.0

    def test_the_figure_reached_and_the_questions_year(self):
        sentence = "全市职业院校办学条件达标率从20%提升至81.7%，2024年为88.5%。"
        q = "2024年办学条件达标率是多少？"
        assert reached(span_context(sentence, "81.7%", q, {"达标率": 4.0})) == 1.0
        assert reached(span_context(sentence, "20%", q, {"达标率": 4.0})) == 0.0
        assert year_before(span_context(sentence, "88.5%", q, {"达标率": 4.0})) == 1.0
        assert year_before(span_context(sentence, "81.7%", q, {"达标率": 4.0})) == 0.0

    def test_a_month_is_not_a_count(self):
        q = analyse("一共来了多少选手？")
        assert [sp.text for sp in wanted_spans("2023年12月，来自31个省的307名选手参赛。", q)] == ["31个", "307名"]


class TestCompose:
    def test_a_case_boxs_figure_names_whose_it_is(self):
        q = "有多少个鲁班工坊？"
        c = candidate("重庆工业职业技术学院牵头建设鲁班工坊2个。", q, section="6 国际合作 › 6.3 国际交流 › 【案例 6- 4】")
        assert scope_of(c) == "重庆工业职业技术学院"
        assert compose(analyse(q), c, c.span, {"鲁班": 5.0}).startswith("重庆工业职业技术学院：2个")
        city = candidate("全市建成鲁班工坊5个。", q)
        assert compose(analyse(q), city, city.span, {"鲁班": 5.0}).startswith("5个（")

    def test_a_case_titled_by_a_kind_names_the_body_of_that_kind_its_sentence_goes_on_from(self):
        q = "有多少个鲁班工坊？"
        box = "3 产教融合 › 3.1 机制创新 › 【案例 3- 2】"
        before = "重庆市智能网联新能源汽车市域产教联合体建立运行机制。建设开放型区域产教融合实践中心，培训员工2万人。"
        c = candidate("建立“鲁班工坊”2个。", q, section=box, context="产教联合体推动职教与产业高质量发展", before=before)
        assert scope_of(c) == "重庆市智能网联新能源汽车市域产教联合体"  # not the practice centre named last
        alone = candidate("建立“鲁班工坊”2个。", q, section=box, context="产教联合体推动职教与产业高质量发展")
        assert scope_of(alone) == "产教联合体"  # no body of that kind before it: the title's kind

    def test_a_case_titled_without_a_name_names_the_school_its_box_named_last(self):
        def in_untitled_box(sentence: str, before: str, title: str = "校企联动促就业") -> Candidate:
            return candidate(sentence, "就业对口率多少？", section="2 人才培养 › 2.3 就业质量 › 【案例 2- 9】",
                             context=title, before=before)

        rate = "2024年就业对口率为90.1%。"
        assert scope_of(in_untitled_box(rate, "重庆某某职业技术学院推进校企联动，建成就业数据中心。")) == "重庆某某职业技术学院"  # not the data centre it built
        assert scope_of(in_untitled_box(rate, "建成就业数据中心。")) == ""
        district = in_untitled_box("全区职业院校获国家级比赛金牌12块。", "确定万州区、江津区作为试点。江津区坚持育人为本。", "试点城市深化改革")
        assert scope_of(district) == "江津区"  # the district its box spoke of last

    def test_a_long_sentence_keeps_the_enumeration_before_the_words_naming_it(self):
        q = "高校党组织书记队伍的三项机制是哪三项？"
        sentence = "创新党组织书记队伍“培训赋能、赛马比拼和考核评价”三项机制，" + "持续开展以赛促学、以学促建活动，" * 8 + "形成案例。"
        c = candidate(sentence, q)
        text = compose(analyse(q), c, None, {"三项": 3.0, "机制": 3.0, "党组织": 2.0})
        assert "培训赋能" in text and "考核评价" in text and len(text) <= 150


class TestShippedModel:
    def test_the_shipped_model_names_only_features_that_exist(self):
        data = json.loads(resources.files("cqvet_qa").joinpath("data", MODEL_FILE).read_text(encoding="utf-8"))
        model = AnswerModel.from_dict(data)
        assert set(model.ranker.features) <= set(FEATURES) and set(model.confidence.features) <= set(CONFIDENCE_FEATURES)
        assert set(model.span.features) <= set(SPAN_FEATURES)
        assert 0.0 < model.threshold < 1.0
        assert data["cross_validation"]["wrong"] <= MAX_WRONG  # chosen on held-out questions

    def test_the_trees_walked_with_numpy_give_scikit_learns_probabilities(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        from cqvet_qa.answer.training import TREES

        rng = np.random.default_rng(0)
        x = rng.random((2000, 5))
        y = ((x[:, 0] > 0.5) ^ (x[:, 1] * x[:, 2] > 0.3)).astype(int)  # an interaction a line cannot draw
        trees = fit_trees(x, y, list("abcde"))
        reference = HistGradientBoostingClassifier(**TREES, early_stopping=False, random_state=0).fit(x, y)
        unseen = rng.random((300, 5))
        assert np.allclose(trees.probabilities(unseen), reference.predict_proba(unseen)[:, 1], atol=1e-12)

    def test_the_blended_ranker_round_trips_through_json(self):
        rng = np.random.default_rng(1)
        x = rng.random((400, 2))
        y = (x[:, 0] > x[:, 1]).astype(int)
        ranker = Ranker(Logistic.fit(x, y, ["a", "b"], 1.0), fit_trees(x, y, ["a", "b"]), 0.5)
        again = Ranker.from_dict(json.loads(json.dumps(ranker.to_dict())))
        assert np.allclose(ranker.probabilities(x), again.probabilities(x), atol=1e-5)
        assert set(again.contributions(x[0])) == {"a", "b", "boosted_trees"}

    def test_questions_about_one_fact_are_held_out_together(self):
        items = [{"evidence": ["全市共有职业学校173所，其中中职126所"]}, {"evidence": ["全市共有职业学校173所，其中中职126所。"]},
                 {"evidence": ["高职院校45所"]}, {"evidence": []}, {"evidence": ["高职院校45所", "职业本科2所"]},
                 {"evidence": ["职业本科2所"]}]
        groups = sorted(sorted(g) for g in fact_groups(items))
        assert groups == [[0, 1], [2, 4, 5], [3]]  # a question citing two facts joins their groups
        folds = _folds(groups, 2, seed=0)
        assert sorted(np.concatenate(folds).tolist()) == list(range(6))
        assert all(set(g) <= set(f.tolist()) or not set(g) & set(f.tolist()) for g in groups for f in folds)

    def test_the_model_file_keeps_a_list_of_numbers_on_one_line_and_names_one_a_line(self):
        data = {"features": ["a", "b"], "coef": [0.5, -1.25e-07, 3], "trees": [[1, 2], [3, 4]], "threshold": 0.6}
        text = model_json(data)
        assert json.loads(text) == data
        assert "[0.5 -1.25e-07 3]" not in text and '"coef": [0.5, -1.25e-07, 3]' in text
        assert '  "a",\n' in text and "[1, 2]" in text

    def test_logistic_round_trips_through_json(self):
        x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]] * 5)
        y = np.array([0, 1, 1, 0] * 5)
        model = Logistic.fit(x, y, ["a", "b"], 1.0)
        again = Logistic.from_dict(json.loads(json.dumps(model.to_dict())))
        assert np.allclose(model.probabilities(x), again.probabilities(x), atol=1e-5)
        assert again.probabilities([1.0, 0.0])[0] > again.probabilities([0.0, 1.0])[0]


def test_a_decline_without_candidates_cites_the_first_sentence_of_each_passage():
    from cqvet_qa.answer.compose import not_found

    hits = [Hit(1, 1.0, "全市建成鲁班工坊5个。其余略。", "报告", "6 国际合作", 40, "c1")]
    answer = not_found(analyse("有多少个鲁班工坊？"), hits)
    assert not answer.answered and "未找到" in answer.text
    assert [c.quote for c in answer.citations] == ["全市建成鲁班工坊5个。"] and answer.citations[0].page == 40


class TestEnglishLead:
    @pytest.mark.parametrize(
        "span, question, lead",
        [
            ("56个", "How many rural revitalization colleges have been set up?", "56 rural revitalization colleges (56个)"),
            ("126所", "how many secondary schools compiled reports?", "126 secondary schools (126所)"),
            ("19.28万人", "how many were high-quality skilled talents?", "192,800 people (19.28万人)"),  # no noun: the unit's
            ("1300余人", "how many overseas talents trained?", "over 1,300 overseas talents (1300余人)"),
            ("1.53亿元", "what output value did it bring?", "153 million yuan (1.53亿元)"),
            ("2024年5月31日", "when was it approved?", "31 May 2024 (2024年5月31日)"),
            ("88.5%", "what is the rate?", "88.5%"),  # a rate reads the same in English
        ],
    )
    def test_the_figure_in_english_with_the_reports_span_kept(self, span, question, lead):
        from cqvet_qa.answer.english import english_lead
        from cqvet_qa.answer.spans import Span

        assert english_lead(Span(span, 0, len(span)), question) == lead

    def test_an_english_lead_never_cuts_the_quote(self):
        q = "How many rural revitalization colleges have been set up?"
        short = candidate("重庆市建成乡村振兴学院56个。", q)
        assert compose(analyse(q), short, short.span, {"学院": 2.0}).startswith("56 rural revitalization colleges (56个) — ")
        long = candidate("重庆市建成乡村振兴学院56个，" + "开展农村新增劳动力实用技术培训，" * 8 + "成效明显。", q)
        text = compose(analyse(q), long, long.span, {"学院": 2.0})
        assert text.startswith("56个 — ") and len(text) <= 150


class TestOrganisations:
    @pytest.mark.parametrize("text, names", [
        ("推动重庆工程职业技术学院与京东集团合作", ["重庆工程职业技术学院", "京东集团"]),
        ("西部大健康行业产教融合共同体成员单位", ["西部大健康行业产教融合共同体"]),  # 共同 and 联合 are no joints inside a name
        ("组建重庆市智能制造产教联合体", ["重庆市智能制造产教联合体"]),
        ("各高职院校和中职学校", []),  # kinds of school, not a school
        ("近三年中高等职业学校的毕业生满意度", []),
    ])
    def test_names_whole_without_the_words_leading_into_them(self, text, names):
        assert [name for _, name in organisations(text)] == names


class TestListsFromTables:
    def test_a_list_asked_of_a_table_quotes_every_row_that_holds_the_question(self):
        q = "重庆电力高等专科学校有哪几门课进了国家在线精品课？"
        terms = {"重庆电力高等专科学校": 6.0, "精品课": 3.0}
        title = "表 2- 1 国家在线精品课程名单 序号 课程名称 学校 负责人"
        rows = [candidate(text, q, context=title) for text in (
            "38 电子技术基础 重庆电力高等专科学校 李 燕", "12 药理学 重庆市医药卫生学校 曾伟川", "40 电厂水处理设备运行与维护 重庆电力高等专科学校 王 某")]
        for row in rows:
            row.table = True
        quoted = answer_rows(analyse(q), rows[0], rows, terms)
        assert [r.sentence for r in quoted] == [rows[0].sentence, rows[2].sentence]
        text = compose(analyse(q), rows[0], None, terms, tuple(quoted[1:]))
        assert "电子技术基础" in text and "电厂水处理设备运行与维护" in text and "药理学" not in text
        assert answer_rows(analyse("重庆电力高等专科学校有多少门国家在线精品课？"), rows[0], rows, terms) == [rows[0]]


class TestQuestionAnalysis:
    def test_a_chinese_question_measures_what_it_names_just_before_the_question_word(self):
        assert analyse("高职毕业生半年内月收入多少？").unit == "元"  # income, not the graduates
        assert analyse("在校生人数是多少？").unit == "人"
        assert analyse("重庆职业学校一共有多少所？").unit == "所"  # a counter word after 多少 decides

    def test_english_cues_are_read_with_shortenings_spelled_out(self):
        assert analyse("how many industry mentors did hi-voc colleges hire?").level == analyse("高职行业导师多少人").level
        assert analyse("whats the doc no. of the MOE notice").unit == "docno"
        assert analyse("how many full time teachers do chongqing voc schools have").unit == "人"  # teachers, not schools

    def test_a_rank_the_question_states_is_not_the_one_it_asks(self):
        assert analyse("for how many consecutive yrs has chongqing ranked 1st in western china?").kind == "number"
        assert analyse("重庆连续多少年排名第一？").kind == "number"
        assert analyse("重庆在全国排名第几？").kind == analyse("what is chongqing's ranking in the contest?").kind == "rank"

    def test_which_or_who_without_a_count_asks_a_name_whatever_money_words_follow(self):
        assert analyse("which college's project got funding from the city?").kind == "entity"
        assert analyse("who received the award and its prize money?").kind == "entity"
        assert analyse("which college got the most funding, and how much?").kind == "number"  # a count asked too
        assert analyse("how much funding did the college get?").kind == "number"

    def test_a_question_mixing_languages_is_read_in_either(self):
        assert analyse("when was the 国家有色金属行业产教融合共同体 launched in chongqing?").kind == "date"
        assert analyse("渝府办发〔2023〕69号那个实施方案是啥时候印发的").kind == "date"

    def test_an_english_question_asking_several_things_is_a_list(self):
        for q in ("which courses did 重庆三峡职业学院 get on the national online course list?", "table 6-1: which central asian countries",
                  "which 2 vocational universities did CQ apply to MoE to set up?", "Shizhu voc center heritage projects - which ones?"):
            assert analyse(q).kind == "list", q
        for q in ("which college built the first Luban workshop?", "which russian university co-runs the college?",
                  "how many courses did CQ get on the list?"):
            assert analyse(q).kind != "list", q

    def test_an_english_percent_sign_asks_a_rate_and_a_headcount_a_number(self):
        assert analyse("what % of hi-voc grads go on to undergrad?").kind == "rate"
        assert analyse("headcount of 双师型 teachers at hi-voc colleges (number, not %)?").kind == "number"
        for q in ("municipal special funds earmarked for voc quality projects?", "output value created by the workstation base"):
            assert (analyse(q).kind, analyse(q).unit) == ("number", "元"), q

    def test_colloquial_and_english_counters_name_the_unit(self):
        assert analyse("那5所特殊教育学校一共有多少老师？").unit == "人"
        assert analyse("no. of majors enrolling foreign intl students 2024").unit == "个"
        assert analyse("职业教育活动月一共搞了多少场活动").unit == "场"

    def test_setting_up_is_not_a_change_asked(self):
        assert not asks_change("how many modern industry colleges were set up by CQ vocational schools?")
        assert asks_change("enrolment went up by how much?") and asks_change("比2023年多了多少？")

    def test_a_person_question_wants_the_people_lac_tags_not_a_caption(self):
        q = analyse("市域产教联合体成立大会上是哪位市领导出席讲话的？")
        assert q.unit == "person"
        assert wanted_spans("（左图）2023年10月，重庆市域产教联合体成立大会召开。", q) == ()
        assert [sp.text for sp in wanted_spans("市委副书记李明清出席大会并讲话。", q)] == ["李明清"]

    def test_an_english_rate_the_report_has_no_word_for_is_a_missing_rate_phrase(self):
        q = "dropout rate at cq hi-voc schools 2024"
        s = signals(q, {"高职": 2.5, "比例": 3.5, "∅dropout": 3.0})
        assert rate_phrase_missing(candidate("全市中、高职学生升学比例分别超过65%、20%。", q), s) == 1.0
        known = "progression rate of hi-voc students"
        assert rate_phrase_missing(candidate("升学比例超过20%。", known), signals(known, {"升学": 3.0, "比例": 3.5})) == 0.0

    def test_a_place_question_wants_the_places_lac_tags(self):
        q = analyse("2024年成渝双城经济圈职业教育活动周在哪个城市办的？")
        assert (q.kind, q.unit) == ("entity", "place")
        assert (analyse("where was the 2024 voc week held?").unit, analyse("科创职院呼吸器的量产应用价值").kind) == ("place", "number")
        sentence = "2024年5月，2024年成渝地区双城经济圈职业教育活动周在泸州举行。"
        assert "泸州" in [sp.text for sp in wanted_spans(sentence, q)]
        assert figure_unfound(np.array([0.9]), [candidate("2024年9月，第47届世界技能大赛在法国闭幕。", "第47届世赛在法国哪个城市闭幕的？")],
                              signals("第47届世赛在法国哪个城市闭幕的？", {"世赛": 5.0})) == 1.0  # 法国 is the question's own


class TestNamedParts:
    """Tables, case boxes and sections the asker points at ("表3-1里…", "case 2-7")."""

    @pytest.mark.parametrize("question, parts", [
        ("表2-1那张课程名单里，排在最后的是哪门课？", {"表2-1"}),
        ("In table 2 - 1, which school submitted the course?", {"表2-1"}),
        ("case 2-7: how many job positions were offered?", {"案例2-7"}),
        ("案例 4-2 里那家企业叫什么", {"案例4-2"}),
        ("3.1里说的机制创新有哪些？", {"3.1"}),
        ("第8章挑战三提了几条打算", {"8", "挑战3"}),
        ("what is challenge three in the last chapter", {"挑战3"}),
        ("前言里写了报告分几个方面？", {"前言"}),
        ("附表1-3叫什么", {"附表"}),  # the appendix's tables are lines of one section
        ("what is appendix table 2-4 called", {"附表"}),
        ("占比提高了3.1%，人数增长3.1万", set()),  # figures, not sections
        ("第47届世赛重庆拿了几块金牌？第一届呢", set()),
    ])
    def test_a_question_names_the_part_it_points_at(self, question, parts):
        assert named_parts(question) == parts
        assert analyse(question).parts == parts

    def test_a_passage_lies_in_every_level_of_its_section_path(self):
        assert parts_of("3 产教融合 › 3.1 机制创新 › 【案例 3- 1】") == {"3", "3.1", "案例3-1"}
        assert parts_of("2 人才培养 › 2.2 技能成长 › 表2- 1重庆市职业学校入选2023年职业教育国家在线精品课程名单") == {"2", "2.2", "表2-1"}
        assert parts_of("8 面临挑战 › 挑战三：中等职业学校转型发展路径模糊") == {"8", "挑战3"}
        assert parts_of("“六说”2024年度重庆职业教育") == frozenset()
        assert parts_of("附表") == {"附表"}

    def test_a_sentence_in_the_named_part_counts_for_it_and_one_elsewhere_against(self):
        q = "3.1里评了几个改革区县"
        s = signals(q, {"改革": 3.0, "区县": 2.0})
        sentence = "评选职业教育改革成效明显区县4个。"
        assert named_part(candidate(sentence, q, section="3 产教融合 › 3.1 机制创新"), s) == 1.0
        assert named_part(candidate(sentence, q, section="1 发展概况 › 1.3 重点改革"), s) == -1.0
        plain = "评了几个改革区县"
        assert named_part(candidate(sentence, plain), signals(plain, {"改革": 3.0})) == 0.0

    def test_the_named_parts_best_passages_join_the_search_s_top_ones(self):
        def hit(rank: int, section: str) -> Hit:
            return Hit(rank, 1.0 / rank, "…", "报告", section, rank, f"c{rank}")

        ranking = [hit(1, "1 发展概况 › 1.2 办学能力"), hit(2, "1 发展概况 › 1.3 重点改革"),
                   hit(3, "3 产教融合 › 3.1 机制创新 › 表3- 1 立项名单"), hit(4, "3 产教融合 › 3.2 资源共建"),
                   hit(5, "3 产教融合 › 3.1 机制创新 › 表3- 1 立项名单"), hit(6, "3 产教融合 › 3.1 机制创新 › 表3- 1 立项名单")]
        reading = SimpleNamespace(search=lambda question, k, doc: ranking[:k])
        question = "表3-1里有哪些学校揭榜"
        found = search_with_named_part(reading, question, analyse(question), 2, None)
        assert [h.rank for h in found] == [1, 2] + [3, 5, 6][:PART_PASSAGES]  # the top 2, then the table's best
        plain = "有哪些学校揭榜"
        assert [h.rank for h in search_with_named_part(reading, plain, analyse(plain), 2, None)] == [1, 2]

