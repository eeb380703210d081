"""Settings: built from an environment mapping, then command-line overrides; nothing read behind its back."""

from __future__ import annotations

from pathlib import Path

import pytest

from cqvet_qa.settings import DEFAULT_COLLECTION, LLMSettings, Settings, StoreSettings, StoreSpecError


def test_defaults_are_relative_to_the_current_directory_and_the_user_cache():
    s = Settings.from_env({})
    assert (s.corpus, s.index, s.feedback) == (Path("corpus"), Path("index"), Path("feedback.jsonl"))
    assert s.cache == Path.home() / ".cache" / "cqvet-qa"
    assert (s.model, s.int8, s.retriever, s.llm, s.debug) == (None, True, "hybrid", None, False)


def test_environment_fills_every_field():
    s = Settings.from_env({
        "CQVET_CORPUS": "/data/docs", "CQVET_INDEX": "/data/idx", "CQVET_CACHE_DIR": "/c",
        "CQVET_EMBED_MODEL": "BAAI/bge-m3", "CQVET_EMBED_INT8": "off", "CQVET_RETRIEVER": "hybrid",
        "CQVET_FEEDBACK": "/f.jsonl", "CQVET_LLM_BASE_URL": "http://h/v1", "CQVET_LLM_TIMEOUT": "5", "CQVET_DEBUG": "1",
    })
    assert (s.corpus, s.index, s.cache, s.feedback) == (Path("/data/docs"), Path("/data/idx"), Path("/c"), Path("/f.jsonl"))
    assert (s.model, s.int8, s.debug) == ("BAAI/bge-m3", False, True)
    assert s.llm == LLMSettings("http://h/v1", timeout=5.0)


def test_xdg_cache_home_is_used_unless_the_cache_is_named():
    assert Settings.from_env({"XDG_CACHE_HOME": "/x"}).cache == Path("/x/cqvet-qa")
    assert Settings.from_env({"XDG_CACHE_HOME": "/x", "CQVET_CACHE_DIR": "/c"}).cache == Path("/c")


def test_overrides_win_and_none_keeps_the_environment():
    env = {"CQVET_CORPUS": "/env/corpus", "CQVET_EMBED_MODEL": "env-model"}
    s = Settings.from_env(env, corpus="cli/corpus", model=None, index=None)
    assert (s.corpus, s.model, s.index) == (Path("cli/corpus"), "env-model", Path("index"))
    assert s.with_overrides(index="/i").index == Path("/i") and s.index == Path("index")  # a copy


def test_int8_is_on_unless_turned_off():
    assert all(Settings.from_env({"CQVET_EMBED_INT8": v}).int8 for v in ("1", "yes", "true", ""))
    assert not any(Settings.from_env({"CQVET_EMBED_INT8": v}).int8 for v in ("0", "false", "No", "OFF"))


def test_the_store_is_local_unless_milvus_is_named():
    assert Settings.from_env({}).store is None and Settings.from_env({"CQVET_STORE": "faiss"}).store is None
    lite = Settings.from_env({"CQVET_STORE": "milvus:index/milvus.db"}).store
    assert (lite.uri, lite.lite, lite.token, lite.collection) == ("index/milvus.db", True, None, DEFAULT_COLLECTION)
    env = {"CQVET_STORE": "milvus:a.db", "CQVET_MILVUS_TOKEN": "u:p", "CQVET_MILVUS_COLLECTION": "c"}
    server = Settings.from_env(env, store="http://milvus:19530").store  # --store wins, the token stays
    assert server == StoreSettings("http://milvus:19530", "u:p", "c") and not server.lite
    assert Settings.from_env(env, store="faiss").store is None


def test_a_store_that_names_nothing_is_refused():
    for spec in ("milvus:", "milvus:index/milvus", "elastic://x", "index/milvus.db"):
        with pytest.raises(StoreSpecError, match="milvus:PATH.db"):
            Settings.from_env({"CQVET_STORE": spec})
