"""The page view: the whole page a citation comes from, read again from the corpus, the cited sentence marked.

Called from the page's script (gr.HTML server function) with a citation's document, page and
quote; only documents of the corpus can be named, so nothing else on disk can be read.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from ..corpus.clean import CleanDocument
from ..corpus.loader import CorpusError, SourceFile, list_documents, read_document
from .render import page_view, words

log = logging.getLogger("cqvet_qa")


@lru_cache(maxsize=8)
def _read(path: Path, sha256: str) -> CleanDocument:
    """Documents are read once per version (the report takes a moment to clean)."""
    return read_document(SourceFile(path.name, path, sha256))


def _page_number(page) -> int | None:
    try:
        return int(page)
    except (TypeError, ValueError):
        return None


def render_page(corpus: Path, documents: list, name, page, quote, lang: str) -> str:
    """HTML of one page of a corpus document, named by its title (as citations are) or file name.

    `documents` are the indexed ones (DocumentInfo); a short message when the page cannot be read.
    """
    t = words(lang)
    number = _page_number(page)
    doc_id = next((d.doc_id for d in documents if name in (d.doc_id, d.title)), None)
    try:
        source = next((s for s in list_documents(corpus) if s.doc_id == doc_id), None)
        document = _read(source.path, source.sha256) if source and number is not None else None
    except CorpusError as exc:
        log.warning("page view of %r p.%r: %s", name, page, exc)
        document = None
    if document is None:
        return page_view(t, str(name), page, None, "")
    return page_view(t, document.title, number, document.page_text(number), str(quote or ""))
