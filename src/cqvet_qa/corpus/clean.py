"""Turn the PDF-extracted report text into clean, structured blocks.

The extraction wraps every ~35 characters with blank lines in between, marks a
new PDF page with a leading space, leaves stray page numbers, picture credits,
flattened tables and spaces inside numbers. Retrieval and citations need the
opposite: whole sentences, a section path and a page for every piece of text.
Other PDFs, read page by page (pdf.py), go through the same parser with their
pages given rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

FULL_LINE_WIDTH = 70  # display width (CJK = 2) below which a wrapped line is "short"
SECTION_SEP = " › "

_CJK = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\u2018-\u201d\u2026\u2014"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+|[ \t]+(?=[{_CJK}])")
_SPACE_IN_NUMBER = re.compile(r"(?<=\d)[ \t]+(?=[.%])|(?<=[.])[ \t]+(?=\d)")
_SENTENCE_END = re.compile(r"[。！？；][”’）)]*$")
_CREDIT = re.compile(r"^（(图片|数据)来源[:：].*）$")
_PAGE_NUMBER = re.compile(r"^\d{1,3}$")
_CHAPTER = re.compile(r"^(\d)\s*([\u4e00-\u9fff]{2,8})$")
_SECTION = re.compile(r"^(\d)\.(\d{1,2})\s*([^，。；]{2,24})$")
_CASE = re.compile(r"^【案例\s*(\d+)\s*-\s*(\d+)】")
_FIGURE = re.compile(r"^(附)?图\s*\d+\s*-\s*\d+\s")
_TABLE = re.compile(r"^(附)?表\s*\d+\s*-\s*\d+\s")
_APPENDIX = re.compile(r"^附\s*(表|录|件)$")
_SUBHEADING = re.compile(r"^挑战[一二三四五六七八九十]+[:：]\S{2,30}$")
# The report opens a city-wide paragraph with a bold topic sentence of two short clauses
# ("重视毕业生在校体验，毕业生母校满意度较高。"): 34 paragraphs outside case boxes open so, and 13 inside
# 12 boxes whose pictures, which close a box, come later (2-8, 3-1, 7-1 …): there the box has ended.
# A case's own paragraph may open alike but names its school first ("重庆某职业技术学院依托…，打造了…。").
_TOPIC_SENTENCE = re.compile(r"^[^。，；]{2,20}，[^。，；]{2,20}。")
_NAMED_SUBJECT = re.compile(r"^重庆[^，。]{0,12}?(学院|学校|大学|中心)")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")  # icon-font glyphs of the PDF, no text
_ROW_NUMBER = re.compile(r"^(\d{1,3})(?:\s+(.*))?$")


@dataclass
class Block:
    """One unit of the cleaned document: a heading, paragraph, caption, table title or row."""

    kind: str  # heading | paragraph | caption | table | row
    text: str
    page: int
    section: list[str]
    chapter: int  # index of the top-level unit, so passages never cross it
    table: str = ""  # for rows: the table's title and header
    page_breaks: list = field(default_factory=list)  # [offset in text, page] where a new page starts
    start: int = 0  # character span in CleanDocument.text
    end: int = 0


@dataclass
class CleanDocument:
    title: str
    text: str
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None  # None for formats without pages (Markdown)
    encoding: str = ""  # of a text file, as read (corpus/encoding.py); "" for PDFs

    def page_text(self, page: int | None) -> str:
        """The text printed on one page, block by block (all of it for a document without pages), for showing a cited page whole."""
        lines = []
        for block in self.blocks:
            breaks = block.page_breaks or [[0, block.page]]
            ends = [offset for offset, _ in breaks[1:]] + [len(block.text)]
            piece = "".join(block.text[start:end] for (start, on), end in zip(breaks, ends) if page is None or self.pages is None or on == page)
            if piece:
                lines.append(piece)
        return "\n".join(lines)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def normalize_spaces(text: str) -> str:
    """Drop the spaces the extraction put around CJK text and inside numbers."""
    text = _SPACE_NEAR_CJK.sub("", text)
    text = _SPACE_IN_NUMBER.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def join_fragments(pieces: list[str], space_between) -> tuple[str, list[int]]:
    """The pieces as one text, and where each starts; a space goes between the text so far and the
    next piece where `space_between(last character, piece)` says. Linear: a paragraph of a million
    wrapped lines is not copied once per line."""
    parts, starts, length, last = [], [], 0, ""
    for piece in pieces:
        if last and space_between(last, piece):
            parts.append(" ")
            length, last = length + 1, " "
        starts.append(length)
        parts.append(piece)
        length += len(piece)
        last = piece[-1] if piece else last
    return "".join(parts), starts


def latin_words_meet(last: str, piece: str) -> bool:
    """Wrapped fragments join without a space between CJK, with one between Latin words or numbers."""
    return last.isascii() and last.isalnum() and piece[:1].isascii() and piece[:1].isalnum()


class _Parser:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.page = 0
        self.chapter = 0  # 0 = front matter
        self.unit = 0
        self.path: list[str] = []
        self.pending: list[tuple[int, str]] = []  # (page, wrapped line) of the paragraph being read
        self.mode = "prose"  # prose | caption | table
        self.table_title = ""
        self.table_header = ""
        self.table_rows: list[list] = []  # [page where the row starts, text]
        self.next_row = 1
        self.table_page = 0

    # --- emitting -------------------------------------------------------
    def emit(self, kind: str, text: str, page: int | None = None, **extra) -> None:
        text = text.strip()
        if text:
            page = max(page or self.page, 1)
            self.blocks.append(Block(kind, text, page, list(self.path), self.unit, **extra))

    def flush_paragraph(self) -> None:
        if self.pending:
            text, starts = join_fragments([normalize_spaces(frag) for _, frag in self.pending], latin_words_meet)
            breaks: list[list[int]] = []
            for (page, _), start in zip(self.pending, starts):
                if not breaks or breaks[-1][1] != page:
                    breaks.append([start, max(page, 1)])
            kind = "caption" if self.mode == "caption" else "paragraph"
            if kind == "paragraph" and self.path and self.path[-1].startswith("【案例") \
                    and _TOPIC_SENTENCE.match(text) and not _NAMED_SUBJECT.match(text):
                self.path = self.path[:-1]  # the case box has ended: the section's own prose again
            self.emit(kind, text, page=breaks[0][1], page_breaks=breaks if len(breaks) > 1 else [])
            self.pending = []
        if self.mode == "caption":
            self.mode = "prose"

    def flush_table(self) -> None:
        if self.mode != "table":
            return
        table = " ".join(x for x in (self.table_title, self.table_header) if x)
        self.emit("table" if self.table_rows else "caption", self.table_title, page=self.table_page)
        for page, row in self.table_rows:
            self.emit("row", re.sub(r"\s+", " ", row), page=page, table=table)
        self.table_rows = []
        self.mode = "prose"

    def flush(self) -> None:
        self.flush_table()
        self.flush_paragraph()

    def heading(self, level: int, title: str, new_unit: bool = False) -> None:
        self.flush()
        if new_unit:
            self.unit += 1
        self.path = self.path[:level] + [title]
        self.emit("heading", title)

    # --- reading ----------------------------------------------------------
    def structural(self, line: str, page_start: bool) -> bool:
        """Handle headings, cases, figures, tables and credits; False if it is running text."""
        if _CREDIT.match(line):
            return True
        if line.replace(" ", "") == "前言" and self.chapter == 0:
            self.heading(0, "前言", new_unit=True)
            return True
        m = _CHAPTER.match(line)
        if m and int(m.group(1)) == self.chapter + 1:
            self.chapter += 1
            self.heading(0, f"{m.group(1)} {m.group(2)}", new_unit=True)
            return True
        m = _SECTION.match(line)
        if m and int(m.group(1)) == self.chapter and self.chapter > 0:
            self.heading(1, f"{m.group(1)}.{m.group(2)} {normalize_spaces(m.group(3))}")
            return True
        if _APPENDIX.match(line.replace(" ", "")):
            self.chapter = 99
            self.heading(0, line.replace(" ", ""), new_unit=True)
            return True
        if _SUBHEADING.match(line):
            self.heading(1, normalize_spaces(line))
            return True
        m = _CASE.match(line)
        if m:
            self.flush()
            level = min(len(self.path), 2)
            self.path = self.path[:level] + [f"【案例 {m.group(1)}- {m.group(2)}】"]
            self.emit("heading", normalize_spaces(line))
            return True
        if _FIGURE.match(line):
            self.flush()
            if self.path and self.path[-1].startswith("【案例"):
                # A case box closes with its pictures: in the report the prose after a case's
                # figure is city-wide again (2.1: "图 2- 1 …" then "重庆市印发…"), and 36 of its
                # 39 cases put their figures last.
                self.path = self.path[:-1]
            self.mode = "caption"
            self.pending = [(self.page, line)]
            return True
        if _TABLE.match(line):
            self.flush()
            if self.path and self.path[-1].startswith("【案例"):
                self.path = self.path[:-1]  # tables stand in the section, not in a case box
            self.mode = "table"
            self.table_title = normalize_spaces(line)
            self.table_header = ""
            self.table_rows = []
            self.next_row = 1
            self.table_page = self.page
            return True
        if self.chapter == 0 and page_start and self.path and display_width(line) <= 40 and not re.search(r"[，。；]", line):
            self.heading(0, normalize_spaces(line), new_unit=True)
            return True
        return False

    def table_line(self, line: str) -> bool:
        """Add a line to the open table; False when the line is prose and the table has ended."""
        if display_width(line) >= FULL_LINE_WIDTH and re.search(r"[，。；]", line):
            return False
        squashed = line.replace(" ", "")
        if not self.table_rows and not self.table_header and squashed.startswith("序号"):
            self.table_header = line
            return True
        if self.table_header and squashed == self.table_header.replace(" ", ""):
            return True  # header repeated on a new page
        m = _ROW_NUMBER.match(line)
        if m and int(m.group(1)) == self.next_row:
            self.next_row += 1
            self.table_rows.append([self.page, line])
            return True
        if self.table_rows:
            self.table_rows[-1][1] += " " + line
        elif self.table_header and self.next_row == 1:
            self.table_rows.append([self.page, line])  # a table without row numbers
        else:
            self.table_header = f"{self.table_header} {line}".strip()
        return True

    def feed(self, raw: str) -> None:
        """One line of the report's extract, where a single leading space starts a new page."""
        page_start = raw.startswith(" ") and not raw.startswith("  ")
        if page_start:
            self.page += 1
        self.feed_line(raw.strip(), page_start)

    def feed_line(self, line: str, page_start: bool) -> None:
        if not line:
            return
        if self.mode != "table" and _PAGE_NUMBER.match(line):
            return  # a printed page number
        if self.structural(line, page_start):
            return
        if self.mode == "table":
            if self.table_line(line):
                return
            self.flush_table()
        if self.mode == "caption":
            if _SENTENCE_END.search(line) or display_width(line) >= FULL_LINE_WIDTH or len(self.pending) >= 3:
                self.flush_paragraph()
            else:
                self.pending.append((self.page, line))
                return
        self.pending.append((self.page, line))
        if display_width(line) < FULL_LINE_WIDTH and _SENTENCE_END.search(line):
            self.flush_paragraph()


def _tidy(text: str) -> str:
    return _PRIVATE_USE.sub("", text.replace("\r\n", "\n").replace("\ufeff", ""))


def clean_report(raw_text: str, title: str) -> CleanDocument:
    """Parse extracted report text into blocks with section paths, pages and spans."""
    parser = _Parser()
    for raw in _tidy(raw_text).split("\n"):
        parser.feed(raw.rstrip())
    parser.flush()
    return finish_blocks(parser.blocks, title, pages=parser.page)


def clean_pages(pages: list[str], title: str) -> CleanDocument:
    """Parse text extracted page by page (pages[i] is page i+1); an empty page keeps its number."""
    parser = _Parser()
    for number, page_text in enumerate(pages, start=1):
        parser.page = number
        lines = [line.strip() for line in _tidy(page_text).split("\n")]
        for i, line in enumerate(line for line in lines if line):
            parser.feed_line(line, page_start=i == 0)
    parser.flush()
    return finish_blocks(parser.blocks, title, pages=len(pages))


def finish_blocks(blocks: list[Block], title: str, pages: int | None) -> CleanDocument:
    """The document's text is its blocks one per line; each block learns its span in it."""
    parts, pos = [], 0
    for block in blocks:
        block.start, block.end = pos, pos + len(block.text)
        parts.append(block.text)
        pos = block.end + 1
    return CleanDocument(title=title, text="\n".join(parts), blocks=blocks, pages=pages)
