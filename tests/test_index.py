"""The index on disk: round trip, stale detection and rebuild, atomic swaps (damage: test_index_recovery.py).

Each test builds a throw-away index of a short synthetic report in tmp_path.
All of them share the session's embedding model (loading it is the slow part):
`Assistant.load` is pointed at it through its module's `Embedder` name.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import cqvet_qa.assistant as assistant_module
from mini_report import NAME, SIZE_AND_CAPACITY
from cqvet_qa.assistant import Assistant
from cqvet_qa.corpus.loader import list_documents, read_document
from cqvet_qa.index_store import CURRENT, IndexUnusable, build_index, load_index, stale_reason
from cqvet_qa.passages import SplitSettings, split_document
from cqvet_qa.retrieval.dense import DenseIndex

TITLE = "迷你职业教育质量报告"

V1 = SIZE_AND_CAPACITY + [
    " 2人才培养",
    "2.1 技能成长",
    "重庆市职业学校学生在全国职业院校技能大赛中获得一等奖 33项，获奖总数连续 16",
    "年位居西部第一。",
]
V2 = V1 + [
    "2.2 就业质量",
    "2024 年，重庆市高等职业学校毕业生毕业去向落实率为 90.76%，中等职业学校毕业",
    "生毕业去向落实率为 98.65%。",
]
NEW_FACT_QUERY = "2024年高等职业学校毕业生毕业去向落实率是多少？"
OLD_FACT_QUERY = "重庆市建成了多少个市级公共实训基地？"


def extract(lines: list[str]) -> str:
    return "\n\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def embedder(assistant):
    return assistant.embedder


@pytest.fixture
def split(embedder):
    return SplitSettings(max_tokens=embedder.info.max_seq_length)  # what Assistant.load uses


@pytest.fixture
def shared_model(monkeypatch, embedder):
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: embedder)


def write_corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / NAME).write_text(extract(V1), encoding="utf-8")
    (folder / "mini-report.meta.json").write_text(json.dumps({"title": TITLE}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder) -> Path:
    """One build of the V1 corpus; each test gets its own copy (the manifest holds no paths)."""
    root = tmp_path_factory.mktemp("pristine")
    corpus = write_corpus(root / "corpus")
    split = SplitSettings(max_tokens=embedder.info.max_seq_length)
    assert stale_reason(root / "index", list_documents(corpus), embedder.info.to_dict(), split) == "no index yet"
    build_index(corpus, root / "index", embedder, split)
    return root / "index"


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def index(tmp_path, corpus, pristine) -> Path:
    folder = tmp_path / "index"
    shutil.copytree(pristine, folder, symlinks=True)
    return folder


def live_build(index: Path) -> Path:
    return index / os.readlink(index / CURRENT)


def build_dirs(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith(("build-", ".tmp-")))


def test_build_then_load_round_trip(corpus, index, embedder, split):
    loaded = load_index(index)
    sources = list_documents(corpus)
    expected = split_document(read_document(sources[0]), NAME, split, token_count=embedder.token_count)
    assert len(expected) >= 3
    assert loaded.passages == expected
    assert loaded.manifest.passages == len(expected)
    assert loaded.manifest.documents == {NAME: sources[0].sha256}
    assert loaded.dense.size == len(expected)
    assert stale_reason(index, sources, embedder.info.to_dict(), split) is None
    assert (index / CURRENT).is_symlink() and build_dirs(index) == [os.readlink(index / CURRENT)]


def test_loaded_index_finds_a_fact_with_its_citation(corpus, index, shared_model):
    build = os.readlink(index / CURRENT)
    hits = Assistant.load(corpus=corpus, index=index, rebuild=False).search(OLD_FACT_QUERY, k=3)
    assert "57个" in hits[0].text
    assert hits[0].section == "1 发展概况 › 1.2 办学能力"
    assert hits[0].page == 1
    assert hits[0].doc == TITLE
    assert os.readlink(index / CURRENT) == build  # a current index is not rebuilt


def test_edited_corpus_makes_the_index_stale_and_load_rebuilds_it(corpus, index, embedder, split, shared_model):
    old_build = os.readlink(index / CURRENT)
    (corpus / NAME).write_text(extract(V2), encoding="utf-8")
    sources = list_documents(corpus)
    assert stale_reason(index, sources, embedder.info.to_dict(), split) == "the corpus changed"

    with pytest.raises(IndexUnusable, match="the corpus changed"):
        Assistant.load(corpus=corpus, index=index, rebuild=False)

    hits = Assistant.load(corpus=corpus, index=index).search(NEW_FACT_QUERY, k=3)
    assert "90.76%" in hits[0].text
    assert hits[0].section == "2 人才培养 › 2.2 就业质量"
    assert stale_reason(index, sources, embedder.info.to_dict(), split) is None
    new_build = os.readlink(index / CURRENT)
    assert new_build != old_build
    assert build_dirs(index) == [new_build]  # the old build is cleaned away, no temp folder left


def test_other_model_or_settings_make_the_index_stale(corpus, index, embedder, split):
    sources = list_documents(corpus)
    other_model = dict(embedder.info.to_dict(), name="bigger-model", fingerprint="0" * 64)
    assert stale_reason(index, sources, other_model, split).startswith("the embedding model changed")
    smaller = SplitSettings(chunk_size=120, chunk_overlap=40, max_tokens=split.max_tokens)
    assert stale_reason(index, sources, embedder.info.to_dict(), smaller) == "the passage settings changed"


def test_missing_manifest_is_refused(index):
    (live_build(index) / "manifest.json").unlink()
    with pytest.raises(IndexUnusable, match="manifest .* is unreadable"):
        load_index(index)


def test_a_failed_build_leaves_the_previous_index_in_place(corpus, index, embedder, split, monkeypatch):
    before = os.readlink(index / CURRENT)
    passages = load_index(index).passages
    (corpus / NAME).write_text(extract(V2), encoding="utf-8")

    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(DenseIndex, "save", disk_full)
    with pytest.raises(OSError):
        build_index(corpus, index, embedder, split)

    assert os.readlink(index / CURRENT) == before
    assert load_index(index).passages == passages
    assert build_dirs(index) == [before]  # the half-written folder is gone


def test_dense_index_is_exact_for_small_corpora_and_hnsw_past_the_threshold(tmp_path, monkeypatch):
    from cqvet_qa.retrieval import dense as dense_module
    from cqvet_qa.retrieval.dense import DenseIndex

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((600, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    monkeypatch.setattr(dense_module, "HNSW_THRESHOLD", 500)
    small, large = DenseIndex.build(vectors[:400]), DenseIndex.build(vectors)
    assert not small.approximate and large.approximate
    large.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.approximate and loaded.index.hnsw.efSearch == dense_module.HNSW_EF_SEARCH  # kept on disk
    assert np.allclose(loaded.vectors(), vectors)  # incremental builds reuse these
    exact = vectors @ vectors[7]
    _, ids = loaded.search(vectors[7], 10)
    assert len(set(ids.tolist()) & set(np.argsort(-exact)[:10].tolist())) >= 9
