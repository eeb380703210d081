"""Build, save and load the index: passages, BM25, FAISS and a manifest.

A build is written into a fresh folder inside `index/`, then the `current`
link is swapped to it in one atomic rename, so a reader sees the old index or
the new one and never half of one, and a killed build leaves the old one.
The manifest records what the index was built from; any difference from the
corpus, model or settings in use makes it stale.

A rebuild reads and embeds only the documents whose content hash changed: the
others keep their passages and their vectors (read back from FAISS). BM25 and
the mined terms span the whole corpus and are cheap, so they are redone. A
different model, split settings or pipeline code rebuilds everything.
With a search store (Milvus, `Settings.store`) the build also puts the passages there, before
the swap, and the manifest records which store (and its schema) holds them: an index built for
another store, or a store that no longer holds the index's passages, is stale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock, Timeout

from . import __version__
from .corpus.loader import CorpusError, SourceFile, UnreadableDocument, list_documents, read_document
from .embedding.model import Embedder
from .passages import Passage, SplitSettings, split_document
from .retrieval.bm25 import BM25Index
from .retrieval.dense import DenseIndex
from .retrieval.tokens import Tokenizer, mine_terms
from .sentences import SentenceVectors, corpus_sentences

if TYPE_CHECKING:
    from .retrieval.base import SearchStore

FORMAT_VERSION = 4  # 4: sentence vectors for the answerer
BUILD_LOCK_WAIT = 900  # seconds a build waits for another one; a full build takes about a minute
CURRENT = "current"
CHECKSUM = "checksum"  # the manifest's own, over its other fields
log = logging.getLogger("cqvet_qa")


def pipeline_fingerprint() -> str:
    """Hash of the code and data that shape passages and tokens: a change to them rebuilds the index."""
    package = Path(__file__).parent
    readers = sorted(p.relative_to(package).as_posix() for p in (package / "corpus").glob("*.py"))
    parts = [*readers, "passages.py", "sentences.py", "retrieval/tokens.py", "data/stopwords_zh.txt"]
    digest = hashlib.sha256()
    for part in parts:
        digest.update((package / part).read_bytes())
    return digest.hexdigest()[:16]


class IndexUnusable(Exception):
    """The index on disk is missing, damaged or from another version."""


@dataclass
class DocumentInfo:
    """A document of the corpus as the index holds it."""

    doc_id: str  # file name
    title: str
    passages: int
    pages: int | None  # None for formats without pages (Markdown)
    skipped: str = ""  # why it could not be read (it then has no passages)
    encoding: str = ""  # a text file's encoding as detected (utf-8, gb18030, utf-16…); "" for PDFs


@dataclass
class Manifest:
    format_version: int
    package_version: str
    documents: dict[str, str]  # doc_id -> sha256 of the file (and its sidecar), unreadable ones included
    model: dict  # name, fingerprint, dim
    split: dict
    pipeline: str
    passages: int
    built_at: float
    catalog: list[dict] = field(default_factory=list)  # a DocumentInfo per document
    files: dict[str, str] = field(default_factory=dict)  # path in the build -> sha256, checked on load
    store: dict = field(default_factory=dict)  # the search store holding the passages too (SearchStore.record); {}: none

    def infos(self) -> list[DocumentInfo]:
        return [DocumentInfo(**d) for d in self.catalog]

    def write(self, path: Path) -> None:
        """The manifest as JSON with a checksum of its content, so that any later change to it shows."""
        data = asdict(self)
        data[CHECKSUM] = _content_checksum(data)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        """The manifest, or IndexUnusable in one line: unreadable, another format, or not as written.

        The files' checksums vouch for the rest of the build; this one vouches for the manifest
        (titles, page counts, those checksums), so a flipped bit is refused, never believed.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexUnusable(f"manifest {path} is unreadable ({exc})") from exc
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != FORMAT_VERSION:
            built_by = data.get("package_version") if isinstance(data, dict) else "?"
            raise IndexUnusable(f"index format {_short(version)} is not {FORMAT_VERSION} (built by cqvet-qa {_short(built_by)})")
        if data.get(CHECKSUM) != _content_checksum(data):
            raise IndexUnusable(f"manifest {path} is damaged (it does not match its checksum; cqvet-qa build makes a new index)")
        del data[CHECKSUM]
        try:
            return cls(**data)
        except TypeError as exc:
            raise IndexUnusable(f"manifest {path} is unreadable ({exc})") from exc


def _content_checksum(data: dict) -> str:
    """sha256 of the manifest's fields (its own checksum aside), in one canonical JSON form."""
    content = {k: v for k, v in data.items() if k != CHECKSUM}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _short(value, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class LoadedIndex:
    manifest: Manifest
    passages: list[Passage]
    bm25: BM25Index
    dense: DenseIndex
    path: Path
    sentences: SentenceVectors


@dataclass
class BuildReport:
    documents: int  # in the corpus, skipped ones included
    added: int
    changed: int
    removed: int
    unchanged: int
    passages: int
    seconds: float
    rebuilt: bool  # False: the index was current and left as it was
    embedded: int = 0  # passages embedded by this build; the others kept their vectors
    skipped: list[str] = field(default_factory=list)  # "file: reason" per unreadable document


def stale_reason(
    index_dir: Path, sources: list[SourceFile], model: dict, split: SplitSettings, store: SearchStore | None = None
) -> str | None:
    """Why the index must be rebuilt, or None if it matches corpus, model, settings and search store."""
    manifest_path = index_dir / CURRENT / "manifest.json"
    if not manifest_path.exists():
        return "no index yet"
    try:
        manifest = Manifest.read(manifest_path)
    except IndexUnusable as exc:
        return str(exc)
    if manifest.documents != {s.doc_id: s.sha256 for s in sources}:
        return "the corpus changed"
    return _incompatible(manifest, model, split) or _store_problem(manifest, store)


def _store_problem(manifest: Manifest, store: SearchStore | None) -> str | None:
    """Why the search store does not hold this build's passages (None without a store: FAISS is always built)."""
    if store is None:
        return None
    if manifest.store != store.record:
        return f"the search store changed ({_described(manifest.store)} -> {_described(store.record)})"
    return store.problem(manifest.passages)


def _described(record: dict) -> str:
    return " ".join(f"{key} {value}" for key, value in record.items()) or "none"


def up_to_date_report(
    corpus_dir: Path, index_dir: Path, model_fingerprint: str, store: SearchStore | None = None
) -> BuildReport | None:
    """The report of a build with nothing to do, or None when there is something to do.

    Read from the manifest and the files' checksums alone, so an up-to-date `cqvet-qa build` does
    not load the model. The same model files give the same token limit, so the split settings the
    manifest recorded are the ones this model would use.
    """
    started = time.perf_counter()
    sources = list_documents(corpus_dir)
    try:
        manifest = current_manifest(index_dir)
        _verify_files((index_dir / CURRENT).resolve(), manifest)
    except IndexUnusable:
        return None
    recorded = manifest.split if isinstance(manifest.split, dict) else {}
    split = SplitSettings(max_tokens=recorded.get("max_tokens", -1))
    if stale_reason(index_dir, sources, {"name": manifest.model.get("name"), "fingerprint": model_fingerprint}, split, store):
        return None
    counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": len(sources)}
    return _report(started, sources, counts, manifest.infos(), manifest.passages, rebuilt=False)


def _incompatible(manifest: Manifest, model: dict, split: SplitSettings) -> str | None:
    """Why passages and vectors of this index cannot be reused with this model and settings."""
    if manifest.model.get("fingerprint") != model["fingerprint"]:
        return f"the embedding model changed ({manifest.model.get('name')} -> {model['name']})"
    if manifest.split != asdict(split):
        return "the passage settings changed"
    if manifest.pipeline != pipeline_fingerprint():
        return "the cleaning or splitting code changed"
    return None


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    split: SplitSettings = SplitSettings(),
    progress: bool = False,
    full: bool = False,
    max_document_mb: float | None = None,
    store: SearchStore | None = None,
) -> BuildReport:
    """Bring the index (and the search store, if any) up to date with the corpus; `full` reads and
    embeds every document anew.

    A document over `max_document_mb` is skipped with that reason; `progress` shows a bar per
    document being split, then the embedding's.
    """
    started = time.perf_counter()
    sources = list_documents(corpus_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        old = _load_quietly(index_dir)
        old_docs = old.manifest.documents if old else {}
        new_docs = {s.doc_id: s.sha256 for s in sources}
        counts = {
            "added": sum(d not in old_docs for d in new_docs),
            "changed": sum(d in old_docs and old_docs[d] != sha for d, sha in new_docs.items()),
            "removed": sum(d not in new_docs for d in old_docs),
        }
        counts["unchanged"] = len(new_docs) - counts["added"] - counts["changed"]
        if full or old is None:
            kept = {}
        elif reason := _incompatible(old.manifest, embedder.info.to_dict(), split):
            log.info("Reading and embedding every document: %s", reason)
            kept = {}
        elif old_docs == new_docs and not _store_problem(old.manifest, store):
            return _report(started, sources, counts, old.manifest.infos(), len(old.passages), rebuilt=False)
        else:
            kept = _kept(old, new_docs)
        parts = [kept.get(s.doc_id) or (*_read(s, split, embedder, max_document_mb, progress), None) for s in sources]
        infos = [info for info, _, _ in parts]
        passages = [p for _, doc_passages, _ in parts for p in doc_passages]
        if not passages:
            raise CorpusError(f"no document in {corpus_dir} could be read: " + "; ".join(_skips(infos)))
        fresh = [p.index_text for _, doc_passages, vectors in parts if vectors is None for p in doc_passages]
        encoded = embedder.encode_passages(fresh, progress=progress) if fresh else np.empty((0, embedder.info.dim))
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            package_version=__version__,
            documents=new_docs,
            model={"name": embedder.info.name, "fingerprint": embedder.info.fingerprint, "dim": embedder.info.dim},
            split=asdict(split),
            pipeline=pipeline_fingerprint(),
            passages=len(passages),
            built_at=time.time(),
            catalog=[asdict(i) for i in infos],
        )
        tokenizer = Tokenizer(mine_terms([p.index_text for p in passages]))
        sentences = _sentence_vectors(passages, old.sentences if old and kept else None, embedder, progress)
        vectors = _in_order(parts, encoded)
        if store is not None:  # before the swap: a build that dies here leaves the old index; the next repairs the store
            in_step = old is not None and old.manifest.store == store.record
            store.sync(passages, vectors, tokenizer, set(kept) if in_step else None)
            manifest.store = store.record
        _write_atomically(index_dir, manifest, passages, tokenizer, vectors, sentences)
    return _report(started, sources, counts, infos, len(passages), rebuilt=True, embedded=len(fresh))


@contextmanager
def _build_lock(index_dir: Path):
    """One build at a time per index: a second one waits (saying so), at most BUILD_LOCK_WAIT seconds.

    The lock is an OS file lock, so a build that dies releases it: only a build that hangs can
    make the next one give up.
    """
    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("Another build of %s is running; waiting for it to finish (at most %d s)", index_dir, BUILD_LOCK_WAIT)
        try:
            lock.acquire(timeout=BUILD_LOCK_WAIT)
        except Timeout:
            raise IndexUnusable(
                f"another build of {index_dir} has held it for more than {BUILD_LOCK_WAIT} s; "
                "try again once that build has finished (or stop it)"
            ) from None
    try:
        yield
    finally:
        lock.release()


def _load_quietly(index_dir: Path) -> LoadedIndex | None:
    """The current build, or None when there is none or it is damaged (it is then rebuilt whole)."""
    if not (index_dir / CURRENT).exists():
        return None
    try:
        return load_index(index_dir, tokenizer=False)
    except IndexUnusable as exc:
        log.info("The index at %s is rebuilt whole: %s", index_dir, exc)
        return None


def _kept(old: LoadedIndex, new_docs: dict[str, str]) -> dict[str, tuple[DocumentInfo, list[Passage], np.ndarray]]:
    """Info, passages and vectors of the documents whose content is unchanged."""
    vectors = old.dense.vectors()
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(old.passages):
        rows.setdefault(passage.doc_id, []).append(row)
    kept = {}
    for info in old.manifest.infos():
        if new_docs.get(info.doc_id) == old.manifest.documents.get(info.doc_id):
            ids = rows.get(info.doc_id, [])
            kept[info.doc_id] = (info, [old.passages[i] for i in ids], vectors[ids])
    return kept


def _in_order(parts: list[tuple[DocumentInfo, list[Passage], np.ndarray | None]], encoded: np.ndarray) -> np.ndarray:
    """All vectors in passage order: the kept ones, and the new ones where a document has none."""
    out, at = [], 0
    for _, passages, vectors in parts:
        if vectors is None:
            vectors, at = encoded[at : at + len(passages)], at + len(passages)
        out.append(vectors)
    return np.concatenate(out).astype(np.float32)


def _read(
    source: SourceFile, split: SplitSettings, embedder: Embedder, max_mb: float | None, progress: bool
) -> tuple[DocumentInfo, list[Passage]]:
    """Read and split one document; an unreadable or oversized one is recorded as skipped, with the reason."""
    try:
        doc = read_document(source, max_mb)
    except UnreadableDocument as exc:
        return DocumentInfo(source.doc_id, source.path.stem, 0, None, skipped=exc.reason), []
    passages = split_document(doc, source.doc_id, split, token_count=embedder.token_count, progress=progress)
    if doc.encoding not in ("", "utf-8"):
        log.info("read %s as %s text", source.doc_id, doc.encoding)
    return DocumentInfo(source.doc_id, doc.title, len(passages), doc.pages, encoding=doc.encoding), passages


def _skips(infos: list[DocumentInfo]) -> list[str]:
    return [f"{i.doc_id}: {i.skipped}" for i in infos if i.skipped]


def _report(started: float, sources: list, counts: dict, infos: list[DocumentInfo], passages: int, **flags) -> BuildReport:
    """The report of a build, each skipped document told on a line of its own."""
    skipped = _skips(infos)
    for line in skipped:
        log.warning("skipped %s", line)
    seconds = round(time.perf_counter() - started, 2)
    return BuildReport(len(sources), **counts, passages=passages, seconds=seconds, skipped=skipped, **flags)


def current_manifest(index_dir: Path) -> Manifest:
    """The manifest of the current build: what it holds, read without loading the model."""
    path = index_dir / CURRENT / "manifest.json"
    if not path.exists():
        raise IndexUnusable(f"there is no index at {index_dir} yet (cqvet-qa build makes one)")
    return Manifest.read(path)


def _sentence_vectors(passages: list[Passage], old: SentenceVectors | None, embedder: Embedder, progress: bool) -> SentenceVectors:
    """Vectors of every sentence; those an earlier build already embedded are reused."""
    texts = corpus_sentences(passages)
    fresh = [t for t in texts if old is None or old.get(t) is None]
    encoded = dict(zip(fresh, embedder.encode_sentences(fresh, progress=progress))) if fresh else {}
    vectors = [encoded[t] if t in encoded else old.get(t) for t in texts]
    return SentenceVectors(texts, np.stack(vectors) if vectors else np.empty((0, embedder.info.dim), dtype=np.float32))


def _write_atomically(index_dir, manifest, passages, tokenizer, vectors, sentences: SentenceVectors) -> None:
    tmp = index_dir / f".tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        (tmp / "terms.txt").write_text("\n".join(tokenizer.terms), encoding="utf-8")
        BM25Index.build([p.index_text for p in passages], tokenizer).save(tmp / "bm25")
        DenseIndex.build(vectors).save(tmp / "dense.faiss")
        sentences.save(tmp)
        manifest.files = {p.relative_to(tmp).as_posix(): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest.write(tmp / "manifest.json")
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
    """Other builds, and temp folders and links left by builds that died (the lock is held: none runs)."""
    live = os.readlink(index_dir / CURRENT)
    for path in index_dir.iterdir():
        if path.name.startswith(("build-", ".tmp-", ".link-")) and path.name != live:
            if path.is_symlink():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_files(root: Path, manifest: Manifest) -> None:
    """Every file as the build wrote it: a flipped byte or a stray write is caught here, not in an answer."""
    if not manifest.files:
        raise IndexUnusable(f"the manifest in {root} has no checksums (built by an older cqvet-qa)")
    for name, expected in manifest.files.items():
        try:
            actual = _sha256(root / name)
        except OSError as exc:
            raise IndexUnusable(f"index files in {root} are damaged ({name}: {exc.strerror or exc})") from exc
        if actual != expected:
            raise IndexUnusable(f"index files in {root} are damaged ({name} does not match its checksum)")


def load_index(index_dir: Path, tokenizer: bool = True) -> LoadedIndex:
    """Load the current build, checking every part so damage is reported here, not deep in FAISS.

    `tokenizer=False` leaves BM25 without its tokenizer (checked, not usable for
    queries): a build reusing passages and vectors is spared setting up jieba.
    The `current` link is read once, so a build swapping it meanwhile cannot mix two builds;
    if that build also removed the one being read, the new one is read instead.
    """
    root = (index_dir / CURRENT).resolve()
    try:
        return _load_build(root, tokenizer)
    except IndexUnusable:
        if (index_dir / CURRENT).resolve() == root:
            raise
        return _load_build((index_dir / CURRENT).resolve(), tokenizer)  # swapped while it was read


def _load_build(root: Path, tokenizer: bool) -> LoadedIndex:
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
        bm25 = BM25Index.load(root / "bm25", Tokenizer(terms) if tokenizer else None)
        sentences = SentenceVectors.load(root)
    except Exception as exc:  # FAISS and bm25s raise RuntimeError, OSError, ValueError… on damaged files
        raise IndexUnusable(f"index files in {root} are damaged ({type(exc).__name__}: {exc})") from exc
    if dense.size != len(passages) or dense.index.d != manifest.model.get("dim"):
        raise IndexUnusable(f"the FAISS index in {root} does not match its passages")
    _verify_files(root, manifest)
    return LoadedIndex(manifest, passages, bm25, dense, root, sentences)
