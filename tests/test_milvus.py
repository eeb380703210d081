"""The Milvus store (issue 18) against the real Milvus core: Milvus Lite 2.5.1 in-process, and a
server when CQVET_MILVUS_URI is set (the same tests, on collections of their own, dropped after).

The report goes into the store once per store kind (a copy of the repo's index, so nothing is
embedded again and the shipped index is never touched); the small corpora use the session's model.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

import cqvet_qa.retrieval.milvus_store as milvus_store
from cqvet_qa.assistant import Assistant
from cqvet_qa.evaluation import read_questions, run_eval
from cqvet_qa.index_store import IndexUnusable, build_index, current_manifest
from cqvet_qa.passages import SplitSettings
from cqvet_qa.retrieval.base import UnknownDocument
from cqvet_qa.retrieval.milvus import MilvusRetriever
from cqvet_qa.retrieval.registry import search_store
from cqvet_qa.settings import Settings, StoreSettings
from repo_data import CORPUS, DEV_SETS, INDEX
from school_reports import SCHOOL_REPORTS, write_corpus
from test_cli import error_lines, run, shared_model  # noqa: F401 (shared_model is a fixture)

TOLERANCE = 0.02  # dev-set figures of the Milvus store against the local one
FIGURES = ("hit@5", "hit@10", "mrr", "answer_accuracy", "wrong")
SERVER_URI = os.environ.get("CQVET_MILVUS_URI")


@pytest.fixture(scope="module", params=["lite", "server"])
def store_kind(request, tmp_path_factory):
    """A function naming a fresh collection on this kind of store: StoreSettings."""
    if request.param == "server" and not SERVER_URI:
        pytest.skip("no Milvus server (set CQVET_MILVUS_URI, and CQVET_MILVUS_TOKEN if it needs one)")
    made: list[StoreSettings] = []
    lite_file = tmp_path_factory.mktemp("milvus") / "milvus.db"

    def new(name: str) -> StoreSettings:
        collection = f"cqvet_test_{name}_{uuid.uuid4().hex[:8]}"
        if request.param == "lite":
            store = StoreSettings(str(lite_file), collection=collection)
        else:
            store = StoreSettings(SERVER_URI, os.environ.get("CQVET_MILVUS_TOKEN"), collection)
        made.append(store)
        return store

    yield new
    if request.param == "server":
        for store in made:
            milvus_store.MilvusStore(store).client.drop_collection(store.collection)


def settings_for(store: StoreSettings | None, corpus: Path, index: Path) -> Settings:
    return replace(Settings.from_env(corpus=corpus, index=index), store=store)


def spec(store: StoreSettings) -> str:
    return f"milvus:{store.uri}" if store.lite else store.uri


@pytest.fixture(scope="module")
def report_store(store_kind, assistant, tmp_path_factory):
    """(Assistant, settings) of the report searched on Milvus, from a copy of the repo's index."""
    index = tmp_path_factory.mktemp("report") / "index"
    shutil.copytree(INDEX, index, symlinks=True)
    settings = settings_for(store_kind("report"), CORPUS, index)
    return Assistant.load(settings=settings, embedder=assistant.embedder), settings


@pytest.fixture(scope="module")
def dev_items() -> list[dict]:
    path = next((p for p in DEV_SETS if p.exists()), None)
    if path is None:
        pytest.skip("the dev set (shared/eval/dev.jsonl) is not beside the repo")
    return read_questions(path)


def test_the_report_on_milvus_answers_the_dev_set_as_the_local_store_does(report_store, assistant, dev_items):
    on_milvus, _ = report_store
    assert isinstance(on_milvus.searcher, MilvusRetriever)
    milvus = run_eval(on_milvus, dev_items)["overall"]
    local = run_eval(assistant, dev_items)["overall"]
    for figure in FIGURES:
        assert abs(milvus[figure] - local[figure]) <= TOLERANCE, (figure, milvus[figure], local[figure])


def test_the_command_line_builds_and_answers_on_milvus(report_store, shared_model, capsys, monkeypatch):
    _, settings = report_store
    monkeypatch.setenv("CQVET_MILVUS_COLLECTION", settings.store.collection)
    where = ["--store", spec(settings.store), "--index", str(settings.index), "--json"]
    code, out, _ = run(["build", *where], capsys)
    assert code == 0 and json.loads(out)["rebuilt"] is False  # the store already holds this build
    code, out, _ = run(["ask", "重庆在全国职业院校技能大赛上已经连续多少年保持西部第一了？", *where, "--no-rebuild"], capsys)
    answer = json.loads(out)
    assert code == 0 and "16" in answer["text"] and answer["citations"]


@pytest.fixture(scope="module")
def schools(store_kind, assistant, tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("schools")
    settings = settings_for(store_kind("schools"), write_corpus(root / "corpus", SCHOOL_REPORTS), root / "index")
    return Assistant.load(settings=settings, embedder=assistant.embedder)


def test_a_document_filter_keeps_the_search_to_that_document(schools):
    hits = schools.search("毕业生就业率", k=5, doc="school-b")
    assert hits and {h.doc for h in hits} == {"乙校质量年报"}
    assert "93.5%" in hits[0].text
    assert schools.search("毕业生就业率", k=5, doc="甲校质量年报")[0].doc == "甲校质量年报"
    with pytest.raises(UnknownDocument):
        schools.search("就业率", doc="school-c")


class Inserts:
    """Counts the rows each build puts into Milvus, and the times it makes the collection anew."""

    def __init__(self, monkeypatch) -> None:
        self.rows, self.created = 0, 0
        row, create = milvus_store._row, milvus_store.MilvusStore._create

        def counted_row(*args):
            self.rows += 1
            return row(*args)

        def counted_create(store, dim):
            self.created += 1
            return create(store, dim)

        monkeypatch.setattr(milvus_store, "_row", counted_row)
        monkeypatch.setattr(milvus_store.MilvusStore, "_create", counted_create)

    def take(self) -> tuple[int, int]:
        taken, self.rows, self.created = (self.rows, self.created), 0, 0
        return taken


def test_adding_changing_and_removing_documents_updates_the_collection_in_place(store_kind, assistant, tmp_path, monkeypatch):
    corpus, index = write_corpus(tmp_path / "corpus", SCHOOL_REPORTS), tmp_path / "index"
    settings = settings_for(store_kind("incremental"), corpus, index)
    split = SplitSettings(max_tokens=assistant.embedder.info.max_seq_length)
    inserts = Inserts(monkeypatch)

    def build():
        report = build_index(corpus, index, assistant.embedder, split, store=search_store(settings))
        return report, Assistant.load(settings=settings, embedder=assistant.embedder, rebuild=False)

    report, on_milvus = build()
    assert inserts.take() == (report.passages, 1)

    (corpus / "school-c.md").write_text("# 丙校质量年报\n\n## 2 就业质量\n\n丙校2024届毕业生就业率为91.8%。\n", encoding="utf-8")
    report, on_milvus = build()
    assert (report.added, report.embedded) == (1, inserts.take()[0]) and report.embedded > 0
    assert "91.8%" in on_milvus.search("丙校毕业生就业率", k=1, doc="school-c")[0].text

    (corpus / "school-a.md").write_text(SCHOOL_REPORTS["school-a.md"].replace("96.2%", "97.4%"), encoding="utf-8")
    report, on_milvus = build()
    assert (report.changed, report.embedded) == (1, inserts.take()[0])
    texts = [h.text for h in on_milvus.search("甲校毕业生就业率", k=5, doc="school-a")]
    assert any("97.4%" in t for t in texts) and not any("96.2%" in t for t in texts)

    (corpus / "school-b.md").unlink()
    report, on_milvus = build()
    assert report.removed == 1 and inserts.take() == (0, 0)  # deleted by document, nothing made anew
    assert not any(h.doc == "乙校质量年报" for h in on_milvus.search("乙校在校生", k=10))
    assert search_store(settings).problem(current_manifest(index).passages) is None


def test_an_index_built_for_another_store_is_stale_and_rebuilt_into_this_one(schools, store_kind, assistant):
    elsewhere = replace(schools.settings, store=store_kind("elsewhere"))
    with pytest.raises(IndexUnusable, match="the search store changed"):
        Assistant.load(settings=elsewhere, embedder=assistant.embedder, rebuild=False)
    moved = Assistant.load(settings=elsewhere, embedder=assistant.embedder)
    assert moved.search("乙校在校生", k=1)[0].doc == "乙校质量年报"
    assert current_manifest(elsewhere.index).store["collection"] == elsewhere.store.collection


def test_a_collection_lost_or_of_another_schema_is_one_line_then_repaired(report_store, assistant, monkeypatch):
    _, settings = report_store
    store = milvus_store.MilvusStore(settings.store)
    store.client.drop_collection(settings.store.collection)
    with pytest.raises(IndexUnusable, match=f"has no collection '{settings.store.collection}'") as lost:
        Assistant.load(settings=settings, embedder=assistant.embedder, rebuild=False)
    assert "\n" not in str(lost.value)
    monkeypatch.setattr(milvus_store, "SCHEMA_VERSION", milvus_store.SCHEMA_VERSION + 1)
    with pytest.raises(IndexUnusable, match="the search store changed"):  # the manifest names the old schema
        Assistant.load(settings=settings, embedder=assistant.embedder, rebuild=False)
    repaired = Assistant.load(settings=settings, embedder=assistant.embedder)
    assert repaired.search("技能大赛获奖总数连续16年西部第一", k=1)[0].text
    assert store.problem(len(repaired.searcher.passages)) is None


def test_a_damaged_lite_file_is_one_error_line(shared_model, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CQVET_STATUS_DELAY", "60")  # no "loading…" line, however slow the machine
    damaged = tmp_path / "milvus.db"
    damaged.write_bytes(os.urandom(64 * 1024))
    code, _, err = run(["search", "就业率", "--store", f"milvus:{damaged}", "--index", str(tmp_path / "idx")], capsys)
    [line] = error_lines(err)
    assert code == 2 and line.startswith(f"cqvet-qa: error: the Milvus Lite file {damaged} cannot be opened")
