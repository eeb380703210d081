"""Every setting in one place: built once from the environment (and command-line options), then passed down.

This is the only module that reads `os.environ`. Data paths are relative to the current
directory (`corpus/`, `index/`, `feedback.jsonl`), not to the source tree, so an installed
package finds the user's data where the user runs it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

log = logging.getLogger("cqvet_qa")

DEFAULT_LLM_MODEL = "qwen2.5"
DEFAULT_LLM_TIMEOUT = 30.0
# A request to the HTTP API (body as sent) and a document of the corpus (file as stored), in MB.
# A chat request carries the conversation kept in the browser (at most 100 turns with their
# passages, about 1.5 MB), so 4 MB leaves room; beyond it a request is refused before it is read.
DEFAULT_MAX_REQUEST_MB = 4.0
# A 50 MB text reads and splits in well under a minute (benchmarks/bench_big_document.py);
# a larger file is skipped with a message rather than holding a build for minutes.
DEFAULT_MAX_DOCUMENT_MB = 50.0
_OFF = {"0", "false", "no", "off"}
# Set (unless the user set them) before a model loads: no hub is reachable here, and tokenizers'
# worker threads would only compete with the query thread for the cores.
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _user_cache(environ: Mapping[str, str]) -> Path:
    """The XDG user cache directory for cqvet-qa (converted models, the dictionary index)."""
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cqvet-qa"


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat server for optional LLM answers."""

    base_url: str
    model: str = DEFAULT_LLM_MODEL
    api_key: str | None = None
    timeout: float = DEFAULT_LLM_TIMEOUT  # seconds for the connection and each piece of the stream

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "LLMSettings | None":
        """None unless CQVET_LLM_BASE_URL is set: nothing is sent anywhere by default."""
        env = os.environ if environ is None else environ
        base_url = env.get("CQVET_LLM_BASE_URL", "").strip()
        if not base_url:
            return None
        return cls(
            base_url=base_url,
            model=env.get("CQVET_LLM_MODEL", "").strip() or DEFAULT_LLM_MODEL,
            api_key=env.get("CQVET_LLM_API_KEY", "").strip() or None,
            timeout=_timeout(env.get("CQVET_LLM_TIMEOUT", "").strip()),
        )

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"


MILVUS_LITE_PREFIX = "milvus:"
MILVUS_LITE_SUFFIX = ".db"  # pymilvus takes a URI ending so for a Lite file, anything else for a server address
SERVER_SCHEMES = ("http://", "https://")
DEFAULT_COLLECTION = "cqvet_passages"


class StoreSpecError(ValueError):
    """A --store (CQVET_STORE) value that names no store."""


@dataclass(frozen=True)
class StoreSettings:
    """Where passages are searched when not in the local FAISS + BM25 index: a Milvus Lite file or a Milvus server.

    The local build (passages, BM25 term statistics, sentence vectors) is still made and read:
    the answerer needs it; the store replaces only the search.
    """

    uri: str  # a Milvus Lite file (its path) or a server's http(s) address
    token: str | None = None  # a server's "user:password" or API key; never written to the manifest
    collection: str = DEFAULT_COLLECTION

    @classmethod
    def parse(cls, spec: str, token: str | None = None, collection: str | None = None) -> "StoreSettings | None":
        """`milvus:PATH` or `http(s)://HOST:PORT`; "" or "faiss" is the local index (None)."""
        spec = spec.strip()
        if spec in ("", "faiss"):
            return None
        if spec.startswith(MILVUS_LITE_PREFIX) and spec.endswith(MILVUS_LITE_SUFFIX):
            uri = spec[len(MILVUS_LITE_PREFIX) :].strip()
        elif spec.startswith(SERVER_SCHEMES):
            uri = spec
        else:
            raise StoreSpecError(f"unknown store {spec!r}: give faiss, milvus:PATH.db (Milvus Lite) or http://HOST:19530")
        return cls(uri, token or None, collection or DEFAULT_COLLECTION)

    @property
    def lite(self) -> bool:
        """True for a Milvus Lite file (embedded, one process at a time), False for a server."""
        return not self.uri.startswith(SERVER_SCHEMES)


def _timeout(raw: str) -> float:
    if not raw:
        return DEFAULT_LLM_TIMEOUT
    try:
        timeout = float(raw)
    except ValueError:
        log.warning("CQVET_LLM_TIMEOUT=%r is not a number; using %ss", raw, DEFAULT_LLM_TIMEOUT)
        return DEFAULT_LLM_TIMEOUT
    return timeout if timeout > 0 else DEFAULT_LLM_TIMEOUT


def _megabytes(env: Mapping[str, str], name: str) -> float | None:
    """A positive size in MB from the environment; None (the default) when unset or not one."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value > 0:
        return value
    log.warning("%s=%r is not a positive number of MB; using the default", name, raw)
    return None


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")  # the documents
    index: Path = Path("index")  # built from them
    cache: Path = field(default_factory=lambda: _user_cache({}))  # converted models, dictionary index
    model: str | None = None  # embedding model: None is the built-in multilingual-e5-small
    # Linear layers in int8: 1.7× faster queries, dev-set ranking no worse (see embedding/model.py).
    int8: bool = True
    retriever: str = "hybrid"  # a name in cqvet_qa.retrieval.registry.RETRIEVERS (used when store is None)
    store: StoreSettings | None = None  # None: search the local FAISS + BM25 index; else Milvus
    feedback: Path = Path("feedback.jsonl")  # likes and dislikes from the chat
    llm: LLMSettings | None = None  # optional LLM answers
    debug: bool = False  # unexpected errors show their traceback
    status_after: float = 1.0  # seconds a command line loads before it says so on stderr (a wait is not a hang)
    max_request_mb: float = DEFAULT_MAX_REQUEST_MB  # larger HTTP requests get 413 before they are read
    max_document_mb: float = DEFAULT_MAX_DOCUMENT_MB  # larger corpus files are skipped with a message

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Settings from the environment (os.environ unless given); overrides that are None are ignored,
        so command-line options that were not given leave the environment's value."""
        env = os.environ if environ is None else environ

        def store(spec: str) -> StoreSettings | None:  # the token and collection always come from the environment
            return StoreSettings.parse(spec, env.get("CQVET_MILVUS_TOKEN"), env.get("CQVET_MILVUS_COLLECTION"))

        from_env = {
            "corpus": env.get("CQVET_CORPUS"),
            "index": env.get("CQVET_INDEX"),
            "cache": env.get("CQVET_CACHE_DIR") or _user_cache(env),
            "model": env.get("CQVET_EMBED_MODEL"),
            "int8": env.get("CQVET_EMBED_INT8", "1").strip().lower() not in _OFF,
            "retriever": env.get("CQVET_RETRIEVER"),
            "store": store(env.get("CQVET_STORE", "")),
            "feedback": env.get("CQVET_FEEDBACK"),
            "llm": LLMSettings.from_env(env),
            "debug": bool(env.get("CQVET_DEBUG")),
            "status_after": float(env["CQVET_STATUS_DELAY"]) if env.get("CQVET_STATUS_DELAY") else None,
            "max_request_mb": _megabytes(env, "CQVET_MAX_REQUEST_MB"),
            "max_document_mb": _megabytes(env, "CQVET_MAX_DOCUMENT_MB"),
        }
        spec = overrides.pop("store", None)  # --store given: it wins, "faiss" included
        settings = cls().with_overrides(**from_env).with_overrides(**overrides)
        return settings if spec is None else replace(settings, store=store(spec))

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the given values (None and "" keep the current one); paths become Paths."""
        paths = {f.name for f in fields(self) if f.type == "Path"}
        given = {k: Path(v) if k in paths else v for k, v in overrides.items() if v is not None and v != ""}
        return replace(self, **given)


def use_offline_hub() -> None:
    """Before a model loads: never try the network (only local files and the local hub cache are used)."""
    for name, value in _OFFLINE.items():
        os.environ.setdefault(name, value)
