"""Smoke test of the benchmark harness on a tiny corpus: every pipeline runs, the JSON is whole and sane."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "benchmarks" / "run.py"

REPORT = """1发展概况

1.1 办学规模

2024年，全市共有职业学校171所，其中中等职业学校126所，高职专科学校43所，职业本科学校2所。

全市职业学校在校生达到89.6万人，比上年增加3.2万人。

1.2 办学条件

全市职业院校办学条件总体达标率达到88.5%，较上年提升6.7个百分点。

新建实训基地45个，投入资金12.8亿元。

2人才培养

2.1 技能成长

学生在全国职业院校技能大赛中获得一等奖27项，连续16年位居西部第一。

毕业生就业去向落实率为93.4%，留在本地就业的比例为72.1%。
"""

QUESTIONS = [
    {"id": "t1", "question": "全市职业院校办学条件总体达标率是多少？", "lang": "zh", "type": "rate",
     "answers": ["88.5%"], "evidence": ["全市职业院校办学条件总体达标率达到88.5%"]},
    {"id": "t2", "question": "How many first prizes did students win at the national skills competition?",
     "lang": "en", "type": "number", "answers": ["27"], "evidence": ["获得一等奖27项"]},
    {"id": "t3", "question": "全市有多少所职业学校？", "lang": "zh", "type": "number",
     "answers": ["171所"], "evidence": ["全市共有职业学校171所"]},
]

KEYS = {
    "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "build_s", "search_p50_ms", "search_p95_ms",
    "ask_p50_ms", "ask_p95_ms", "cold_start_s", "peak_rss_mb",
    "cli_ask_cold_s", "cli_search_cold_s", "serve_first_answer_s", "serve_peak_rss_mb",
}


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "tiny-report.txt").write_text(REPORT, encoding="utf-8")
    qa = tmp / "qa.jsonl"
    qa.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(RUN), "--corpus", str(corpus), "--qa", str(qa), "--no-scale",
         "--repeat", "1", "--cold-runs", "1", "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_machine_is_described(result):
    machine = result["machine"]
    assert machine["cores"] >= 1 and machine["python"] and machine["date"] and machine["cpu_model"]
    assert machine["torch_threads"] >= 1


def test_every_pipeline_has_every_key_with_sane_values(result):
    pipelines = result["pipelines"]
    assert set(pipelines) == {"naive", "bm25", "cqvet-qa"}
    for name, metrics in pipelines.items():
        assert set(metrics) == KEYS, name
        for key in ("hit@1", "hit@5", "hit@10", "mrr"):
            assert 0.0 <= metrics[key] <= 1.0, (name, key)
        assert metrics["hit@1"] <= metrics["hit@5"] <= metrics["hit@10"]
        assert metrics["search_p50_ms"] > 0 and metrics["search_p95_ms"] >= metrics["search_p50_ms"]
        assert metrics["build_s"] > 0 and metrics["peak_rss_mb"] > 0
    product = pipelines["cqvet-qa"]
    assert 0.0 <= product["answer_accuracy"] <= 1.0
    assert product["ask_p50_ms"] > 0 and product["ask_p95_ms"] >= product["ask_p50_ms"]
    assert product["cold_start_s"] > 0
    for key in ("cli_ask_cold_s", "cli_search_cold_s", "serve_first_answer_s", "serve_peak_rss_mb"):
        assert product[key] > 0, key
    assert pipelines["naive"]["cli_search_cold_s"] > 0  # its query path launched cold, for comparison
    for peer in ("naive", "bm25"):  # figures that do not apply to the peers are null
        for key in ("answer_accuracy", "ask_p50_ms", "ask_p95_ms", "cold_start_s"):
            assert pipelines[peer][key] is None
    # a tiny corpus holds the evidence of every question in a handful of passages
    assert product["hit@10"] == 1.0
    assert result["scale"] == []


def test_ratios_and_targets_are_reported(result):
    assert result["ratios_to_naive"]["naive"]["hit@10"] == 1.0
    assert result["targets"]["search_p50_ms"]["met"] in (True, False)


def test_fillers_are_near_the_real_passages_and_never_state_an_answer():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import numpy as np
    from bench_scale import make_fillers

    from cqvet_qa.passages import Passage

    texts = [line for line in REPORT.splitlines() if line.strip() and not line[0].isdigit()]
    passages = [Passage("t", "t.txt", "s", 1, i * 100, i * 100 + len(t), t, "", "prose") for i, t in enumerate(texts)]
    rng = np.random.default_rng(1)
    real = rng.standard_normal((len(passages), 16)).astype(np.float32) + 3.0
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    evidence = [e for q in QUESTIONS for e in q["evidence"]]
    f_texts, f_tokens, f_vectors, pool = make_fillers(passages, real, list, 50, evidence, seed=2)
    assert len(f_texts) == len(f_tokens) == len(f_vectors) == 50 and pool > 0
    assert np.allclose(np.linalg.norm(f_vectors, axis=1), 1.0, atol=1e-5)
    assert (f_vectors @ real.T).max(axis=1).min() > 0.5  # near some real passage
    squashed = [t.replace(" ", "") for t in f_texts]
    assert not any(e in t for e in evidence for t in squashed)
    assert all(tokens == list(text) for tokens, text in zip(f_tokens, f_texts))
