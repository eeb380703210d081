"""The owner's "add a document" control (only with `cqvet-qa serve --allow-upload`): check, store, index.

A file arrives in Gradio's temporary folder; it is checked (type, size), given a safe name that
no corpus file has yet, and handed to `Assistant.add`, which indexes only what is new.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from ..corpus.loader import CorpusError
from .render import words

log = logging.getLogger("cqvet_qa")

UPLOAD_TYPES = (".txt", ".md", ".pdf")
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_NAME_CHARS = 80


def safe_name(name: str) -> str:
    """A file name that is safe in any folder: letters (any script), digits, '-', '_' and one suffix."""
    base = Path(unicodedata.normalize("NFKC", str(name)).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w\-]+", "_", stem, flags=re.UNICODE).strip("._-")[:MAX_NAME_CHARS] or "document"
    return stem + suffix


def free_name(corpus: Path, name: str) -> str:
    """`name`, or name-2, name-3… so that an upload never replaces a document already in the corpus."""
    stem, suffix = Path(name).stem, Path(name).suffix
    taken = {p.name.lower() for p in corpus.iterdir()} if corpus.is_dir() else set()
    candidate, n = name, 1
    while candidate.lower() in taken or Path(candidate).stem.lower() + ".meta.json" in taken:
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    return candidate


def refusal(path: Path, original: str, lang: str) -> str | None:
    """Why this file cannot be added (its type or size), in the page's language; None when it can."""
    t = words(lang)
    if Path(original).suffix.lower() not in UPLOAD_TYPES:
        return t["upload_type"].format(name=original)
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        return t["upload_size"].format(name=original, mb=size / 1024 / 1024)
    return None


def add_upload(assistant, upload: str | Path, original: str, lang: str, progress) -> tuple[bool, str]:
    """Store and index one uploaded file; (added, message). `progress` is a gr.Progress tracking the build."""
    t = words(lang)
    path = Path(upload)
    if problem := refusal(path, original, lang):
        return False, problem
    name = free_name(assistant.corpus, safe_name(original))
    progress(0, desc=t["upload_busy"].format(name=name))
    with tempfile.TemporaryDirectory(prefix="cqvet-upload-") as folder:
        staged = Path(folder) / name
        shutil.copyfile(path, staged)
        try:
            assistant.add([staged], progress=True)
        except CorpusError as exc:
            return False, t["upload_bad"].format(name=original, reason=getattr(exc, "reason", str(exc)))
    info = next(d for d in assistant.documents() if d.doc_id == name)  # add_files refused it if it could not be read
    log.info("uploaded %s as %s: %s passages", original, name, info.passages)
    return True, t["upload_done"].format(title=info.title, passages=info.passages)
