"""The chat page's parts that need no browser and no Gradio: drawing turns, export, pages, uploads, feedback."""

from __future__ import annotations

import re

from cqvet_qa.corpus.clean import Block, CleanDocument
from cqvet_qa.feedback import feedback_record
from cqvet_qa.ui.render import answer_html, export_markdown, render_evidence
from cqvet_qa.ui.uploads import MAX_UPLOAD_BYTES, free_name, refusal, safe_name

CITATION = {"doc": "甲校质量年报", "section": "1 办学规模", "page": 3, "quote": "甲校2024年全日制在校生12000人。", "chunk_id": "a-1"}
HIT = {"rank": 1, "score": 7.5, "text": "概况。甲校2024年全日制在校生12000人。开设专业45个。", "doc": "甲校质量年报",
       "section": "1 办学规模", "page": 3, "chunk_id": "a-1"}
OTHER = {**HIT, "rank": 2, "text": "其他段落" * 40, "chunk_id": "a-2"}
ANSWER = {"text": "12000人 [1]", "answered": True, "citations": [CITATION], "hits": [HIT, OTHER], "question": "在校生多少？",
          "mode": "extractive", "note": "", "confidence": 0.91}
TURNS = [
    {"question": "在校生多少？", "shown": "在校生多少？", "answer": ANSWER, "notice": None, "cut": 0},
    {"question": "", "shown": None, "answer": None, "notice": "empty"},
]


def test_bubble_links_every_marker_and_explains_the_confidence():
    bubble = answer_html(0, TURNS[0], "en")
    assert bubble.count('href="#cq-ev-0-1"') == 2  # the inline [1] and the source line's
    assert 'title="The answer model&#x27;s estimate that this answer is right: 91%"' in bubble
    assert "1 办学规模 · p. 3" in bubble


def test_evidence_keeps_every_turn_and_shows_the_latest_answer():
    panel = render_evidence(TURNS, "zh")
    sections = re.findall(r'<section class="ev-turn( active)?" data-turn="(\d)"', panel)
    assert sections == [(" active", "0"), ("", "1")]
    assert 'id="cq-ev-0-1"' in panel and "<mark>甲校2024年全日制在校生12000人。</mark>" in panel
    assert "7.5" not in panel  # no retrieval scores
    other = panel[panel.index("ev-other"):]
    assert other.count("其他段落其他") < 45  # the head and the rest, not the passage twice


def test_export_has_questions_answers_and_citations_with_section_and_page():
    text = export_markdown(TURNS, "zh")
    assert "## 问题: 在校生多少？" in text and "**回答:** 12000人 \\[1\\]" in text
    assert "1. 《甲校质量年报》 1 办学规模 · 第 3 页: “甲校2024年全日制在校生12000人。”" in text


def test_a_page_is_its_blocks_pieces_on_that_page():
    doc = CleanDocument("t", "", [Block("paragraph", "AB", 1, [], 0, page_breaks=[[0, 1], [1, 2]]), Block("heading", "C", 2, [], 0)], pages=2)
    assert doc.page_text(1) == "A" and doc.page_text(2) == "B\nC"


def test_upload_names_are_made_safe_and_never_replace_a_document(tmp_path):
    assert safe_name("../../etc/示范 学院<2024>.PDF") == "示范_学院_2024.pdf"
    assert safe_name(".hidden.md") == "hidden.md" and safe_name("....txt") == "document.txt"
    (tmp_path / "report.md").write_text("x", encoding="utf-8")
    assert free_name(tmp_path, "report.md") == "report-2.md" and free_name(tmp_path, "new.md") == "new.md"


def test_uploads_of_other_types_or_over_20_mb_are_refused_with_a_reason(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>", encoding="utf-8")
    assert "only .txt, .md and .pdf" in refusal(page, "page.html", "en")
    big = tmp_path / "big.pdf"
    with open(big, "wb") as f:
        f.truncate(MAX_UPLOAD_BYTES + 1)
    assert "上限为 20 MB" in refusal(big, "big.pdf", "zh")
    assert refusal(page, "notes.md", "en") is None


def test_an_added_document_is_answerable_at_once(tiny, tmp_path):
    from cqvet_qa.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in tiny.corpus.iterdir():
        (corpus / source.name).write_bytes(source.read_bytes())
    fresh = Assistant.load(corpus, tmp_path / "index", embedder=tiny.embedder)
    added = tmp_path / "school-c.md"
    added.write_text("# 丙校质量年报\n\n## 1 办学规模\n\n丙校2024年全日制在校生5400人。\n", encoding="utf-8")
    copied, report = fresh.add([added])
    assert copied == ["school-c.md"] and report.added == 1 and report.embedded < report.passages  # only the new one embedded
    assert any(h.doc == "丙校质量年报" for h in fresh.search("丙校在校生", k=3))


def test_a_dislike_reason_is_recorded_with_its_category_and_comment():
    record = feedback_record(TURNS[0], False, "wrong_figure", "  应为 12100  ")
    assert record["liked"] is False and record["category"] == "wrong_figure" and record["comment"] == "  应为 12100  "
    assert feedback_record(TURNS[0], False, "made-up", "x")["category"] == "other"
    assert "category" not in feedback_record(TURNS[0], True)
