"""Find the documents in a corpus folder and read each into a CleanDocument.

Each format has its reader: `.txt` is an extract like the report's (clean.py),
`.md` is Markdown (markdown.py), `.pdf` is read page by page (pdf.py). A
document's title is the one in a sidecar `NAME.meta.json` ({"title": ...}),
else the reader's (first heading, PDF metadata title), else the file name.
A file that cannot be read raises UnreadableDocument, so that a build can skip
it and index the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .clean import CleanDocument, clean_report
from .encoding import decode
from .markdown import read_markdown
from .pdf import read_pdf


class CorpusError(Exception):
    """The corpus folder cannot be used (missing, empty, unreadable)."""


class UnreadableDocument(CorpusError):
    """One document cannot be read (empty, damaged, a scan without text); the others still can."""

    def __init__(self, doc_id: str, reason: str) -> None:
        super().__init__(f"{doc_id}: {reason}")
        self.doc_id = doc_id
        self.reason = reason


@dataclass(frozen=True)
class SourceFile:
    doc_id: str  # file name, unique within the corpus
    path: Path
    sha256: str  # of the file and its sidecar: a new title is a change too


def _text_reader(parse: Callable[[str], CleanDocument]) -> Callable[[Path], CleanDocument]:
    """A reader of text files in any encoding `decode` detects; the document records which it was."""

    def read(path: Path) -> CleanDocument:
        text, encoding = decode(path.read_bytes())
        doc = parse(text)
        doc.encoding = encoding
        return doc

    return read


READERS: dict[str, Callable[[Path], CleanDocument]] = {
    ".txt": _text_reader(lambda text: clean_report(text, title="")),
    ".md": _text_reader(read_markdown),
    ".markdown": _text_reader(read_markdown),
    ".pdf": read_pdf,
}
SUPPORTED = set(READERS)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


def leaves_folder(path: Path) -> bool:
    """A symbolic link to something outside the folder it sits in (the corpus): never read."""
    return path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve())


def is_document(path: Path) -> bool:
    """A file the corpus indexes (hidden files, such as editors' temporary copies, are not)."""
    return path.is_file() and path.suffix.lower() in SUPPORTED and not path.name.startswith((".", "~$"))


def list_documents(corpus_dir: Path) -> list[SourceFile]:
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir} (pass --corpus DIR)")
    files = sorted(p for p in corpus_dir.iterdir() if is_document(p))
    if not files:
        raise CorpusError(f"no documents ({', '.join(sorted(SUPPORTED))}) in {corpus_dir}")
    sources = []
    for path in files:
        digest = hashlib.sha256()
        if leaves_folder(path):
            sources.append(SourceFile(path.name, path, "link:" + os.readlink(path)))  # read_document refuses it
            continue
        try:
            digest.update(path.read_bytes())
            if _sidecar(path).is_file():
                digest.update(_sidecar(path).read_bytes())
            sha256 = digest.hexdigest()
        except OSError:
            sha256 = ""  # read_document says why when the build reaches it
        sources.append(SourceFile(path.name, path, sha256))
    return sources


def _sidecar_title(path: Path) -> str:
    try:
        return str(json.loads(_sidecar(path).read_text(encoding="utf-8"))["title"]).strip()
    except (ValueError, KeyError, TypeError, OSError):
        return ""


def read_document(source: SourceFile, max_mb: float | None = None) -> CleanDocument:
    """The document's blocks and title; UnreadableDocument when it yields no text.

    A file larger than `max_mb` (Settings.max_document_mb) is refused before it is read.
    """
    path = source.path
    if leaves_folder(path):
        raise UnreadableDocument(source.doc_id, "a link to a file outside the corpus folder: not read")
    try:
        size = path.stat().st_size
        if size == 0:
            raise ValueError("the file is empty")
        if max_mb is not None and size > max_mb * 1024 * 1024:
            raise ValueError(
                f"the file is {size / 1024 / 1024:.1f} MB; documents over {max_mb:g} MB are skipped "
                "(CQVET_MAX_DOCUMENT_MB sets the limit)"
            )
        doc = READERS[path.suffix.lower()](path)
    except OSError as exc:
        raise UnreadableDocument(source.doc_id, f"cannot read the file ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise UnreadableDocument(source.doc_id, str(exc)) from exc
    if not doc.text.strip():
        raise UnreadableDocument(source.doc_id, "no text found in it")
    doc.title = _sidecar_title(path) or doc.title or path.stem
    return doc


def add_files(files: list[Path], corpus_dir: Path, max_mb: float | None = None) -> list[str]:
    """Copy documents (with their sidecars) into the corpus; refuse all if one could not be indexed.

    Each file is read first, so a scan or a damaged file is reported here
    rather than skipped by the build; each copy lands under its final name in
    one rename, so a build running meanwhile never reads half a file.
    """
    for path in files:
        if not path.is_file():
            raise CorpusError(f"not a file: {path}")
        if not is_document(path):
            raise CorpusError(f"{path.name}: not a document the corpus can hold ({', '.join(sorted(SUPPORTED))})")
        read_document(SourceFile(path.name, path, ""), max_mb)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in files:
        for source in (path, _sidecar(path)):
            target = corpus_dir / source.name
            if source.is_file() and (not target.exists() or not target.samefile(source)):
                partial = corpus_dir / f".{source.name}.partial"
                shutil.copyfile(source, partial)
                os.replace(partial, target)
                copied.append(source.name)
    return copied
