"""Read a Markdown file into a CleanDocument: headings make the section path.

Markdown has no pages, so every block cites page 1 and the document reports no
page count. A first heading that stands above all others (one `#` title over
`##` chapters) is the document's title, not a step of every section path.
Tables become rows under their header, as the report's tables do, so a row is
indexed and cited whole.
"""

from __future__ import annotations

import re

from .clean import Block, CleanDocument, finish_blocks, join_fragments

_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_TABLE_DELIMITER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.MULTILINE)
_CJK_EDGE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_SENTENCE_END = re.compile(r"[。！？；.!?;]$")
# Every span is bounded (MAX_INLINE characters), so an unclosed "[" or "**" costs a bounded look
# ahead, not a scan to the end of a paragraph: reading stays linear in the file's size.
MAX_INLINE = 500
_INLINE = [
    (re.compile(r"<!--.{0,2000}?-->", re.S), ""),
    (re.compile(rf"!\[([^\]\n]{{0,{MAX_INLINE}}})\]\([^)\n]{{0,2000}}\)"), ""),  # images: the alt text is no content
    (re.compile(rf"\[([^\]\n]{{1,{MAX_INLINE}}})\]\([^)\n]{{0,2000}}\)"), r"\1"),  # links keep their text
    (re.compile(rf"<[^<>\n]{{1,{MAX_INLINE}}}>"), ""),  # inline HTML tags
    (re.compile(rf"(\*\*|__)(.{{1,{MAX_INLINE}}}?)\1"), r"\2"),
    (re.compile(rf"(?<![\w*])\*(?!\s)(.{{1,{MAX_INLINE}}}?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(rf"`([^`\n]{{0,{MAX_INLINE}}})`"), r"\1"),
]


def plain(text: str) -> str:
    """Inline Markdown to the text a reader sees."""
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return re.sub(r"\s+", " ", text).strip()


def words_meet(last: str, line: str) -> bool:
    """Source lines break between words: a space, except next to CJK text."""
    return not (_CJK_EDGE.match(last) or _CJK_EDGE.match(line[:1]))


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [plain(cell) for cell in re.split(r"(?<!\\)\|", line)]


class _Reader:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.stack: list[tuple[int, str]] = []  # (level, title) of the open headings
        self.unit = 0
        self.pending: list[str] = []
        self.skip_level = 0  # the level of the title heading, kept out of section paths

    def emit(self, kind: str, text: str, table: str = "") -> None:
        if text:
            path = [title for _, title in self.stack]
            self.blocks.append(Block(kind, text, 1, path, self.unit, table=table))

    def flush(self) -> None:
        self.emit("paragraph", join_fragments([plain(line) for line in self.pending], words_meet)[0])
        self.pending = []

    def heading(self, level: int, title: str) -> None:
        self.flush()
        title = plain(title)
        if not title or level == self.skip_level:
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if not self.stack:
            self.unit += 1
        self.stack.append((level, title))
        self.emit("heading", title)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """Rows under the header; a short line just before the table is its title."""
        self.flush()
        last = self.blocks[-1] if self.blocks else None
        if last and last.kind == "paragraph" and len(last.text) <= 60 and not _SENTENCE_END.search(last.text):
            last.kind = "table"
            title = last.text
        else:
            title = ""
        described = " ".join(x for x in (title, " ".join(c for c in header if c)) if x)
        for row in rows:
            self.emit("row", " ".join(c for c in row if c), table=described)


def _front_matter(lines: list[str]) -> tuple[str, list[str]]:
    """(title from a YAML front matter block, the lines after it)."""
    if lines and lines[0].strip() == "---":
        for end in range(1, len(lines)):
            if lines[end].strip() in ("---", "..."):
                found = _FRONT_TITLE.search("\n".join(lines[1:end]))
                return (found.group(1).strip() if found else ""), lines[end + 1 :]
    return "", lines


def _title_level(lines: list[str]) -> tuple[int, str]:
    """(level, text) of the first heading when no later heading is as high, else (0, first heading)."""
    levels = [(len(m.group(1)), m.group(2)) for m in map(_ATX.match, lines) if m]
    if not levels:
        return 0, ""
    level, text = levels[0]
    alone = all(other > level for other, _ in levels[1:])
    return (level if alone else 0), plain(text)


def read_markdown(text: str) -> CleanDocument:
    """Blocks of a Markdown document; its title is the front matter's or the first heading."""
    lines = text.replace("\r\n", "\n").replace("\ufeff", "").split("\n")
    front_title, lines = _front_matter(lines)
    reader = _Reader()
    reader.skip_level, first_heading = _title_level(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            reader.flush()
            fence, i = _FENCE.match(line).group(1), i + 1
            code = []
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i].rstrip())
                i += 1
            reader.emit("paragraph", "\n".join(c for c in code if c.strip()))
        elif m := _ATX.match(line):
            reader.heading(len(m.group(1)), m.group(2))
        elif "|" in line and i + 1 < len(lines) and _TABLE_DELIMITER.match(lines[i + 1]):
            header, rows, i = _cells(line), [], i + 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            reader.table(header, rows)
            continue
        elif _SETEXT.match(line) and len(reader.pending) == 1:
            title = reader.pending.pop()
            reader.heading(1 if line.strip().startswith("=") else 2, title)
        elif not line.strip() or _RULE.match(line):
            reader.flush()
        elif _ITEM.match(line):
            reader.flush()
            reader.pending.append(_ITEM.sub("", line))
        else:
            reader.pending.append(_QUOTE.sub("", line))
        i += 1
    reader.flush()
    return finish_blocks(reader.blocks, front_title or first_heading, pages=None)
