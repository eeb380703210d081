"""Read a PDF's text layer page by page (pypdf) through the report's parser.

Pages come from the PDF itself, so citations name the exact page; headings,
tables and captions are found by the numbering patterns of the report
(corpus/clean.py). Running headers and footers are dropped first, or they would
be read into the paragraphs they interrupt. A PDF without a text layer (a
scan) is refused: there is no OCR here.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .clean import CleanDocument, clean_pages

if TYPE_CHECKING:
    from pypdf import PdfReader

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repair notes on odd files are noise in build output

_PLACEHOLDER_TITLE = re.compile(r"^(untitled|unknown|无标题|microsoft word - .*|.*\.(docx?|pdf|pptx?|xlsx?|wps))$", re.I)
EDGE = 2  # lines at the top and at the bottom of a page where running headers and footers stand


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove lines repeated at the edge of most pages (digits aside: "第 3 页" is the same footer)."""
    if len(pages) < 3:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))

    def at_edge(i: int, lines: list[str]) -> bool:
        return i < EDGE or i >= len(lines) - EDGE

    counts = Counter(k for lines in pages for k in {key(line) for i, line in enumerate(lines) if at_edge(i, lines)})
    running = {k for k, n in counts.items() if n >= max(3, len(pages) / 2) and k.strip("#")}
    return [[line for i, line in enumerate(lines) if not (at_edge(i, lines) and key(line) in running)] for lines in pages]


def _title(reader: PdfReader) -> str:
    try:
        title = (reader.metadata.title or "") if reader.metadata else ""
    except Exception:  # a broken info dictionary costs the title, not the document
        return ""
    title = re.sub(r"\s+", " ", str(title)).strip()
    return "" if _PLACEHOLDER_TITLE.match(title) else title


def read_pdf(path: Path) -> CleanDocument:
    """Blocks of a PDF with their page numbers; ValueError when it has no usable text."""
    from pypdf import PdfReader  # here, not at the top: every command imports the corpus package

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types on damaged or encrypted files
        raise ValueError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise ValueError("the PDF has no pages")
    lines = [[line.strip() for line in text.splitlines() if line.strip()] for text in pages]
    if not any(lines):
        raise ValueError("the PDF has no text layer (a scan? run OCR on it first)")
    lines = _drop_running_lines(lines)
    return clean_pages(["\n".join(page) for page in lines], title=_title(reader))
