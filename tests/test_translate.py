"""English -> Chinese BM25 query translation, against the vocabulary of a small real BM25 index."""

from __future__ import annotations

import pytest

from cqvet_qa.retrieval.bm25 import BM25Index
from cqvet_qa.retrieval.tokens import Tokenizer, mine_terms
from cqvet_qa.retrieval.translate import (
    MAX_CANDIDATES,
    QueryTranslator,
    _parse_cedict,
    base_forms,
    cedict_index,
    fold,
    glossary,
    senses_of,
    words_of,
)

SENTENCES = [
    "重庆工程职业技术学院与坦桑尼亚合作共建“鲁班工坊”，成为重庆首个国家级鲁班工坊。",
    "2024年重庆职业学校共建成鲁班工坊2个、海外人才培养基地2个。",
    "2024年中等职业学校毕业去向落实率98.65%，高等职业学校毕业生毕业去向落实率90.76%。",
    "全市职业学校专利授权数量8603项，其中发明专利授权数量1441项。",
    "专利成果转化到款额1109.12万元，横向技术服务到款额20109.81万元。",
    "2024年重庆职业学校接收国外留学生人数1502人，较2023年增加379人。",
    "学校新建学生宿舍两栋，宿舍床位增加1200个。",
    "后勤部门负责修理教学设备，全年修理设备300余台。",
    "学校为全体学生购买实习责任保险，保险经费428.26万元。",
    "重庆市10所学校入选国家“双高计划”建设单位。",
    "高等职业教育年生均财政拨款13396.58元。",
    "全市职业学校办学条件总体达标率为88.5%。",
    "重庆42所职业学校成为老年教育试点学校。",
    "建成乡村振兴学院56个，服务乡村振兴战略。",
    "学生在全国职业院校技能大赛中获得一等奖13项。",
    "学校组织学生开展游泳比赛和篮球比赛。",
    "13家单位入选全国首批“大思政课”实践教学基地。",
    "聘请大国工匠、劳动模范172人，较2023年增长11.68%。",
    "全市高职学生升学比例超过20%。",
    "产教融合、校企合作是职业教育的基本办学模式。",
    "为区域经济发展提供技术技能人才110万余人。",
]


@pytest.fixture(scope="module")
def vocabulary() -> set[str]:
    tokenizer = Tokenizer(mine_terms(SENTENCES))
    index = BM25Index.build(SENTENCES, tokenizer)
    return set(index.retriever.vocab_dict)


@pytest.fixture(scope="module")
def translator(vocabulary) -> QueryTranslator:
    return QueryTranslator(vocabulary)


def test_glossary_phrase_reaches_the_chinese_term(translator):
    assert "鲁班工坊" in translator.translate("How many Luban workshops did Chongqing build?")
    assert "双高计划" in translator.translate("Which schools are in the Double High-Level Plan?")
    terms = translator.translate("What was the graduate placement rate of secondary vocational schools?")
    assert "毕业去向落实率" in terms
    assert "中等职业学校" in terms


def test_longest_phrase_wins(translator):
    terms = translator.translate("rural revitalization colleges")
    assert "乡村振兴" in terms
    # "rural" alone would give 农村/乡村; the phrase is taken whole instead
    assert "农村" not in terms


def test_plurals_and_inflections(translator):
    assert "专利" in translator.translate("patents")
    assert "留学生" in translator.translate("How many international students came?")
    assert "宿舍" in translator.translate("How many dormitories were built?")  # CC-CEDICT, -ies
    assert "修理" in translator.translate("How much equipment was repaired?")  # CC-CEDICT, -ed
    assert "修理" in translator.translate("repairing")  # CC-CEDICT, -ing
    assert "游泳" in translator.translate("a swimming contest")


def test_base_forms_and_fold():
    assert fold("workshops") == "workshop"
    assert fold("universities") == "university"
    assert fold("revitalisation") == "revitalization"
    assert fold("analysis") == "analysis"
    assert "plan" in base_forms("planned")
    assert "apply" in base_forms("applied")
    assert "repair" in base_forms("repairing")
    assert (fold("took"), fold("won"), fold("found")) == ("take", "win", "found")  # to found: 成立
    assert "send" in base_forms("sent")


def test_chinese_in_the_question_passes_through(translator):
    terms = translator.translate("What is the 2024 graduate placement rate (毕业去向落实率)?")
    assert terms[0] == "毕业去向落实率"
    assert "大思政课" in translator.translate("How many bases for the 大思政课 were named?")


def test_the_several_translations_of_one_word_are_alternatives(vocabulary, translator):
    question = "How many industry colleges were set up in 2024?"
    wider = QueryTranslator(vocabulary | {"设立", "成立", "组建"})
    alternatives = wider.alternatives(question)
    assert len(alternatives) == 1 and {"设立", "成立", "组建"} <= set(alternatives[0])
    assert set(alternatives[0]) <= set(wider.translate(question))  # BM25 still searches them all
    assert translator.alternatives("How many Luban workshops?") == []  # one translation: nothing to choose


def test_numbers_pass_through(translator):
    terms = translator.translate("In 2024, 13 units joined; the 47th contest; 20,109.81 yuan")
    assert {"2024", "13", "47", "20109.81"} <= set(terms)
    assert "110万" in translator.translate("more than 1.1 million skilled workers")


def test_candidates_outside_the_vocabulary_are_dropped(vocabulary, translator):
    assert "医院" not in translator.translate("How many hospitals are there?")
    wider = QueryTranslator(vocabulary | {"医院"})
    assert "医院" in wider.translate("How many hospitals are there?")
    for term in translator.translate("How many hospitals, libraries and canteens does the city have?"):
        assert translator.usable(term) or any(translator.usable(p) for p in term.split()), term


def test_usable_means_cut_into_vocabulary_tokens():
    translator = QueryTranslator({"职业", "学校", "学"})
    assert translator.usable("职业学校")  # two vocabulary tokens
    assert translator.usable("学校")
    assert not translator.usable("医院")
    assert not translator.usable("职业学")  # would need the one-character token 学


def test_candidates_per_word_are_capped():
    house = [s.chinese for s in senses_of(cedict_index()["house"])]
    translator = QueryTranslator(set(house))
    terms = translator.translate("house")
    assert 0 < len(terms) <= MAX_CANDIDATES
    assert all(len(t) > 1 for t in terms)  # single characters only when nothing longer exists


def test_stopwords_and_empty_questions_give_nothing(translator):
    assert translator.translate("") == []
    assert translator.translate("   ") == []
    assert translator.translate("What is it, and how many of them were there?") == []


def test_no_duplicates_and_question_order(translator):
    terms = translator.translate("patents and patents and Luban workshops")
    assert len(terms) == len(set(terms))
    assert terms.index("专利") < terms.index("鲁班工坊")


def test_words_of_splits_hyphens_and_possessives():
    assert words_of("Chongqing's industry-education consortia") == [
        ("word", "chongqing"),
        ("word", "industry"),
        ("word", "education"),
        ("word", "consortia"),
    ]
    assert words_of("the 3rd year, 1,200 people") == [
        ("word", "the"),
        ("num", "3"),
        ("word", "year"),
        ("num", "1,200"),
        ("word", "people"),
    ]
    assert words_of("ideological & political") == [("word", "ideological"), ("word", "and"), ("word", "political")]


def test_glossary_file_is_well_formed():
    entries = glossary()
    assert len(entries) > 200
    assert entries[("luban", "workshop")][0] == "鲁班工坊"
    for key, terms in entries.items():
        assert key and all(key), key
        assert terms and all(t.strip() == t and t for t in terms), key


def test_cedict_parser_reverses_glosses():
    lines = [
        "# comment\n",
        "專利 专利 [zhuan1 li4] /patent/sth uniquely enjoyed by a certain group/\n",
        "工坊 工坊 [gong1 fang2] /workshop/\n",
        "作坊 作坊 [zuo1 fang5] /workshop (of artisan)/\n",
        "修理 修理 [xiu1 li3] /to repair/to fix/\n",
        "裡 里 [li3] /variant of 裏|里[li3]/\n",
        "王 王 [Wang2] /surname Wang/\n",
        "3C 3C [san1 C] /computers, communications, and consumer electronics/\n",
    ]
    index = _parse_cedict(lines)
    assert [s.chinese for s in senses_of(index["patent"])] == ["专利"]
    workshop = senses_of(index["workshop"])
    assert [s.chinese for s in workshop] == ["工坊", "作坊"]
    assert not workshop[0].qualified and workshop[1].qualified
    assert [s.chinese for s in senses_of(index["repair"])] == ["修理"]
    assert "wang" not in index and not any(k.startswith("variant") for k in index)
    assert all("3C" not in v for v in index.values())


def test_shortenings_askers_use_are_spelled_out(translator):
    assert translator.translate("hi-voc grads") == translator.translate("higher vocational graduates")
    assert "留学生" in translator.translate("how many intl students in 2024")
    assert translator.untranslated("how many voc schools have intl students") == []


@pytest.mark.parametrize("typo, word", [("patnets", "patents"), ("vocatonal", "vocational"), ("goverment", "government"),
                                        ("chonqing", "chongqing"), ("recieve", "receive")])
def test_a_word_no_dictionary_knows_is_put_right_when_one_edit_makes_it_known(translator, typo, word):
    assert translator.corrected(typo) == word


def test_known_and_short_words_are_left_alone(translator):
    assert translator.corrected("workshops") == "workshops"
    assert translator.corrected("whats") == "whats"  # too short to put right safely: "hats", "what"
    assert translator.corrected("stankin") == "stankin"  # a name: nothing one edit away is known
    assert "专利" in " ".join(translator.translate("invention patnets granted"))
