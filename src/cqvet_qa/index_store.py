"""Build, save and load the index: passages, BM25, FAISS and a manifest.

A build is written into a fresh folder inside `index/`, then the `current`
link is swapped to it in one atomic rename, so a reader sees the old index or
the new one and never half of one, and a killed build leaves the old one.
The manifest records what the index was built from; any difference from the
corpus, model or settings in use makes it stale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock

from . import __version__
from .corpus.loader import SourceFile, list_documents, read_document
from .embedding.model import Embedder
from .passages import Passage, SplitSettings, split_document
from .retrieval.bm25 import BM25Index
from .retrieval.dense import DenseIndex
from .retrieval.tokens import Tokenizer, mine_terms

FORMAT_VERSION = 2
CURRENT = "current"
log = logging.getLogger("cqvet_qa")


def pipeline_fingerprint() -> str:
    """Hash of the code and data that shape passages and tokens: a change to them rebuilds the index."""
    package = Path(__file__).parent
    parts = ["corpus/clean.py", "corpus/loader.py", "passages.py", "retrieval/tokens.py", "data/stopwords_zh.txt"]
    digest = hashlib.sha256()
    for part in parts:
        digest.update((package / part).read_bytes())
    return digest.hexdigest()[:16]


class IndexUnusable(Exception):
    """The index on disk is missing, damaged or from another version."""


@dataclass
class Manifest:
    format_version: int
    package_version: str
    documents: dict[str, str]  # doc_id -> sha256 of the file
    model: dict  # name, fingerprint, dim
    split: dict
    pipeline: str
    passages: int
    built_at: float

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexUnusable(f"manifest {path} is unreadable ({exc})") from exc
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != FORMAT_VERSION:
            raise IndexUnusable(
                f"index format {version} is not {FORMAT_VERSION} (built by cqvet-qa {data.get('package_version') if isinstance(data, dict) else '?'})"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise IndexUnusable(f"manifest {path} is unreadable ({exc})") from exc


@dataclass
class LoadedIndex:
    manifest: Manifest
    passages: list[Passage]
    bm25: BM25Index
    dense: DenseIndex
    path: Path


@dataclass
class BuildReport:
    documents: int
    passages: int
    seconds: float
    rebuilt: bool


def stale_reason(index_dir: Path, sources: list[SourceFile], model: dict, split: SplitSettings) -> str | None:
    """Why the index must be rebuilt, or None if it matches corpus, model and settings."""
    manifest_path = index_dir / CURRENT / "manifest.json"
    if not manifest_path.exists():
        return "no index yet"
    try:
        manifest = Manifest.read(manifest_path)
    except IndexUnusable as exc:
        return str(exc)
    if manifest.documents != {s.doc_id: s.sha256 for s in sources}:
        return "the corpus changed"
    if manifest.model.get("fingerprint") != model["fingerprint"]:
        return f"the embedding model changed ({manifest.model.get('name')} -> {model['name']})"
    if manifest.split != asdict(split):
        return "the passage settings changed"
    if manifest.pipeline != pipeline_fingerprint():
        return "the cleaning or splitting code changed"
    return None


def build_index(
    corpus_dir: Path, index_dir: Path, embedder: Embedder, split: SplitSettings = SplitSettings(), progress: bool = False
) -> BuildReport:
    started = time.perf_counter()
    sources = list_documents(corpus_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / ".lock")):
        passages: list[Passage] = []
        for source in sources:
            doc = read_document(source)
            passages += split_document(doc, source.doc_id, split, token_count=embedder.token_count)
        texts = [p.index_text for p in passages]
        tokenizer = Tokenizer(mine_terms(texts))
        vectors = embedder.encode_passages(texts, progress=progress)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            package_version=__version__,
            documents={s.doc_id: s.sha256 for s in sources},
            model={"name": embedder.info.name, "fingerprint": embedder.info.fingerprint, "dim": embedder.info.dim},
            split=asdict(split),
            pipeline=pipeline_fingerprint(),
            passages=len(passages),
            built_at=time.time(),
        )
        _write_atomically(index_dir, manifest, passages, tokenizer, vectors)
    return BuildReport(len(sources), len(passages), round(time.perf_counter() - started, 2), True)


def _write_atomically(index_dir, manifest, passages, tokenizer, vectors) -> None:
    tmp = index_dir / f".tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        (tmp / "terms.txt").write_text("\n".join(tokenizer.terms), encoding="utf-8")
        BM25Index.build([p.index_text for p in passages], tokenizer).save(tmp / "bm25")
        DenseIndex.build(vectors).save(tmp / "dense.faiss")
        (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(tmp)
        final = index_dir / f"build-{time.time_ns()}"
        tmp.rename(final)
        link = index_dir / f".link-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(final.name)
        os.replace(link, index_dir / CURRENT)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_old_builds(index_dir)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _remove_old_builds(index_dir: Path) -> None:
    live = os.readlink(index_dir / CURRENT)
    for path in index_dir.iterdir():
        if path.name.startswith(("build-", ".tmp-")) and path.name != live:
            shutil.rmtree(path, ignore_errors=True)


def load_index(index_dir: Path) -> LoadedIndex:
    """Load the current build, checking every part so damage is reported here, not deep in FAISS."""
    root = index_dir / CURRENT
    manifest = Manifest.read(root / "manifest.json")
    try:
        with open(root / "passages.jsonl", encoding="utf-8") as f:
            passages = [Passage(**json.loads(line)) for line in f if line.strip()]
        terms = (root / "terms.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnusable(f"passages in {root} are unreadable ({exc})") from exc
    if len(passages) != manifest.passages:
        raise IndexUnusable(f"{root} holds {len(passages)} passages, the manifest says {manifest.passages}")
    try:
        dense = DenseIndex.load(root / "dense.faiss")
        bm25 = BM25Index.load(root / "bm25", Tokenizer(terms))
    except Exception as exc:  # FAISS and bm25s raise RuntimeError, OSError, ValueError… on damaged files
        raise IndexUnusable(f"index files in {root} are damaged ({type(exc).__name__}: {exc})") from exc
    if dense.size != len(passages) or dense.index.d != manifest.model.get("dim"):
        raise IndexUnusable(f"the FAISS index in {root} does not match its passages")
    return LoadedIndex(manifest, passages, bm25, dense, root)
