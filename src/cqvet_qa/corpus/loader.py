"""Find the documents in a corpus folder and read each into a CleanDocument.

A document's title comes from an optional sidecar `NAME.meta.json`
({"title": ...}), else from the file name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .clean import CleanDocument, clean_report

SUPPORTED = {".txt"}


class CorpusError(Exception):
    """The corpus folder cannot be used (missing, empty, unreadable)."""


@dataclass(frozen=True)
class SourceFile:
    doc_id: str  # file name, unique within the corpus
    path: Path
    sha256: str


def list_documents(corpus_dir: Path) -> list[SourceFile]:
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir} (pass --corpus DIR)")
    files = sorted(p for p in corpus_dir.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED)
    if not files:
        raise CorpusError(f"no documents ({', '.join(sorted(SUPPORTED))}) in {corpus_dir}")
    sources = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CorpusError(f"cannot read {path}: {exc.strerror}") from exc
        sources.append(SourceFile(path.name, path, hashlib.sha256(data).hexdigest()))
    return sources


def _title(path: Path) -> str:
    meta = path.with_name(path.stem + ".meta.json")
    if meta.is_file():
        try:
            return str(json.loads(meta.read_text(encoding="utf-8"))["title"])
        except (ValueError, KeyError, OSError):
            pass
    return path.stem


def read_document(source: SourceFile) -> CleanDocument:
    try:
        text = source.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read {source.path} as UTF-8 text: {exc}") from exc
    return clean_report(text, title=_title(source.path))
