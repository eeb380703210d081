"""The `cqvet-qa` command line, run in-process through `cli.main` and once as the installed script.

In-process runs share the session's embedding model (`Assistant.load` and the
`model` command are pointed at it), and search the repo's corpus and index
with --no-rebuild so that a test can never rebuild the shipped index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

import cqvet_qa.assistant as assistant_module
import cqvet_qa.embedding.model as model_module
from cqvet_qa import Answer, Citation, Hit
from cqvet_qa.cli import main
from cqvet_qa.evaluation import first_hit_rank
from cqvet_qa.settings import Settings
from repo_data import REPORT
ACCEPTANCE_QUERY = "2024年职业学校办学条件总体达标率"
HIT_KEYS = {"rank", "score", "text", "doc", "section", "page", "chunk_id"}


@pytest.fixture
def shared_model(monkeypatch, assistant):
    monkeypatch.setattr(assistant_module, "Embedder", lambda settings=None: assistant.embedder)
    monkeypatch.setattr(model_module, "Embedder", lambda settings=None: assistant.embedder)
    return assistant.embedder


def run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits instead of returning
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def pages_printing(fragment: str) -> set[int]:
    """PDF pages (page-start lines counted) on which the extract prints `fragment`."""
    pages, page = set(), 0
    for line in REPORT.read_text(encoding="utf-8").splitlines():
        if line.startswith(" ") and not line.startswith("  "):
            page += 1
        if fragment in line.replace(" ", ""):
            pages.add(page)
    return pages


def assert_attainment_rate_found(data: dict) -> None:
    assert data["query"] == ACCEPTANCE_QUERY
    hits = data["hits"]
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert all(set(h) == HIT_KEYS for h in hits)
    found = [h for h in hits if "88.5%" in h["text"]]
    assert found, [h["text"][:40] for h in hits]
    for hit in found:
        assert hit["section"] and hit["doc"] == "重庆市职业教育质量年度报告（2024年度）"
        # a hit's page is the page its passage starts on
        assert isinstance(hit["page"], int) and hit["page"] in pages_printing(hit["text"][:6])
    assert any(h["section"] == "1 发展概况 › 1.2 办学能力" and h["page"] == 14 for h in found)


# --- search ------------------------------------------------------------------


def test_search_json_finds_the_attainment_rate_with_section_and_page(shared_model, capsys):
    code, out, err = run(["search", ACCEPTANCE_QUERY, "--json", "--no-rebuild"], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    assert_attainment_rate_found(json.loads(out))


def test_search_k_sets_the_number_of_hits(shared_model, capsys):
    code, out, _ = run(["search", ACCEPTANCE_QUERY, "-k", "2", "--json", "--no-rebuild"], capsys)
    assert code == 0
    assert len(json.loads(out)["hits"]) == 2


@pytest.mark.parametrize("k", ["0", "abc", "101", "-3"])
def test_bad_k_is_one_error_line(k, capsys):
    code, out, err = run(["search", ACCEPTANCE_QUERY, "-k", k, "--json"], capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("cqvet-qa: error:") and "-k" in lines[0]


def test_search_jsonl_prints_one_hit_a_line_with_the_hit_fields(shared_model, capsys):
    code, out, err = run(["search", ACCEPTANCE_QUERY, "-k", "3", "--jsonl", "--no-rebuild"], capsys)
    assert code == 0, err
    hits = [json.loads(line) for line in out.splitlines()]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert all(list(h) == [f.name for f in fields(Hit)] for h in hits)


def test_ask_json_keys_are_the_answer_fields(shared_model, capsys):
    code, out, err = run(["ask", "2024年办学条件总体达标率是多少？", "--json", "--no-rebuild"], capsys)
    assert code == 0, err
    answer = json.loads(out)
    assert list(answer) == [f.name for f in fields(Answer)]
    assert answer["answered"] and "88.5%" in answer["text"] and answer["confidence"] > 0.5
    assert all(list(c) == [f.name for f in fields(Citation)] for c in answer["citations"])


def test_missing_corpus_folder_is_one_error_line(shared_model, capsys, tmp_path):
    assert not Path("/nonexistent").exists()
    code, out, err = run(["search", ACCEPTANCE_QUERY, "--corpus", "/nonexistent", "--index", str(tmp_path / "idx")], capsys)
    assert code == 2
    assert error_lines(err) == ["cqvet-qa: error: corpus folder not found: /nonexistent (pass --corpus DIR)"]
    assert not (tmp_path / "idx").exists()  # nothing was built


def test_empty_corpus_folder_is_one_error_line(shared_model, capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(["search", ACCEPTANCE_QUERY, "--corpus", str(empty), "--index", str(tmp_path / "idx")], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith("cqvet-qa: error: no documents")
    assert str(empty) in lines[0]
    assert "Traceback" not in err


def test_empty_query_is_one_error_line(capsys):
    code, _, err = run(["search", "   "], capsys)
    assert code == 2
    assert error_lines(err) == ["cqvet-qa: error: the query is empty"]


# --- model -------------------------------------------------------------------


def test_model_json_describes_the_model(shared_model, capsys):
    code, out, err = run(["model", "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert set(info) == {"name", "path", "dim", "max_seq_length", "fingerprint", "precision"}
    assert info == shared_model.info.to_dict()
    assert info["name"] and Path(info["path"]).is_dir()
    assert isinstance(info["dim"], int) and info["dim"] > 0  # 384 for the default multilingual-e5-small
    assert isinstance(info["max_seq_length"], int) and info["max_seq_length"] > 0  # 512 for the default
    assert re.fullmatch(r"[0-9a-f]{16,}", info["fingerprint"])
    assert info["precision"] == "int8"


def test_float32_is_one_setting_away_and_needs_its_own_index(shared_model, monkeypatch):
    from cqvet_qa.embedding import model

    assert shared_model.info.precision == "int8"  # the default: the int8 ONNX graph
    int8 = model.resolve_model(Settings.from_env())[2]
    monkeypatch.setenv("CQVET_EMBED_INT8", "0")
    assert model.precision(Settings.from_env()) == "float32"
    assert model.resolve_model(Settings.from_env())[2] != int8  # other vectors: the index is rebuilt, never mixed


# --- eval --------------------------------------------------------------------

QUESTIONS = [
    {
        "id": "t1", "lang": "zh", "type": "rate",
        "question": "2024年重庆市职业学校办学条件总体达标率是多少？",
        "answers": ["88.5%"],
        "evidence": ["职业学校基本办学条件总体达标率达88.5%"],
    },
    {
        "id": "t2", "lang": "zh", "type": "entity",
        "question": "国家在线精品课程《Python程序设计》的课程负责人是谁？",
        "answers": ["杨智勇"],
        "evidence": ["Python程序设计 重庆工程职业技术学院 杨智勇"],
    },
    {
        "id": "t3", "lang": "en", "type": "number",
        "question": "How many gold medals did Chongqing win at the 47th WorldSkills Competition?",
        "answers": ["3"],
        "evidence": ["斩获3枚金牌、1枚银牌和1个优胜奖", "重庆斩获3金1银1优胜"],
    },
]


def test_eval_json_reports_hit_rates_and_mrr_overall_by_lang_and_type(shared_model, assistant, capsys, tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    code, out, err = run(["eval", "--qa", str(qa), "--json", "--no-rebuild"], capsys)
    assert code == 0, err
    result = json.loads(out)

    metric_keys = {"n", "hit@1", "hit@5", "hit@10", "mrr"}
    assert metric_keys <= set(result["overall"])
    assert set(result["by_lang"]) == {"zh", "en"}
    assert set(result["by_type"]) == {"rate", "entity", "number"}
    assert result["overall"]["n"] == 3
    assert result["by_lang"]["zh"]["n"] == 2 and result["by_lang"]["en"]["n"] == 1
    for group in [result["overall"], *result["by_lang"].values(), *result["by_type"].values()]:
        assert metric_keys <= set(group)
        assert 0 <= group["hit@1"] <= group["hit@5"] <= group["hit@10"] <= 1
        assert group["hit@1"] <= group["mrr"] <= group["hit@10"]

    # the numbers are those of the ranks a user gets from `search`
    ranks = {q["id"]: first_hit_rank([h.text for h in assistant.search(q["question"], k=10)], q["evidence"]) for q in QUESTIONS}
    assert all(ranks.values()), ranks  # every fact is within the top 10
    expect = lambda k: round(sum(r <= k for r in ranks.values()) / 3, 4)  # noqa: E731
    assert result["overall"]["hit@1"] == expect(1)
    assert result["overall"]["hit@5"] == expect(5)
    assert result["overall"]["hit@10"] == expect(10) == 1.0
    assert result["overall"]["mrr"] == round(sum(1 / r for r in ranks.values()) / 3, 4)
    assert result["by_lang"]["en"]["mrr"] == round(1 / ranks["t3"], 4)
    assert result["by_type"]["rate"]["hit@1"] == float(ranks["t1"] == 1)


def test_eval_on_a_file_that_is_not_jsonl_is_one_error_line(capsys, tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"id": "t1", "question": "x"}\nnot json at all\n', encoding="utf-8")
    code, _, err = run(["eval", "--qa", str(qa), "--json"], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith("cqvet-qa: error:") and f"{qa}:2" in lines[0]


def test_eval_on_a_question_without_question_text_is_one_error_line(shared_model, capsys, tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"id": "t1", "lang": "zh", "type": "rate", "evidence": ["88.5%"]}\n', encoding="utf-8")
    code, _, err = run(["eval", "--qa", str(qa), "--json", "--no-rebuild"], capsys)
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith("cqvet-qa: error:"), err


# --- the installed console script -------------------------------------------


def test_installed_console_script_searches(tmp_path):
    script = Path(sys.executable).parent / "cqvet-qa"
    if not script.exists():
        script = Path(shutil.which("cqvet-qa") or "cqvet-qa")
    assert script.exists(), "the cqvet-qa console script is not installed"
    proc = subprocess.run(
        [str(script), "search", ACCEPTANCE_QUERY, "--json", "--no-rebuild"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert_attainment_rate_found(json.loads(proc.stdout))
