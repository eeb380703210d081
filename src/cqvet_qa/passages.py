"""Split cleaned documents into the passages that are indexed and cited.

Prose is split with langchain's RecursiveCharacterTextSplitter on Chinese
sentence ends, with overlap so that a fact near a boundary is whole in at least
one passage. Table rows are packed whole under their table's title. A passage
never crosses a section (so never a chapter), and its text is an exact slice of
the cleaned document, so every citation can be traced back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from itertools import groupby

from .corpus.clean import SECTION_SEP, Block, CleanDocument

SENTENCE_SEPARATORS = ["\n", "。", "！", "？", "；", "，", " ", ""]


@dataclass(frozen=True)
class SplitSettings:
    chunk_size: int = 240  # characters
    chunk_overlap: int = 80
    max_tokens: int = 512  # the embedding model's limit, prefix included


@dataclass
class Passage:
    doc: str  # document title
    doc_id: str  # file name in the corpus
    section: str  # path such as "2 人才培养 › 2.2 技能成长 › 【案例 2- 4】"
    page: int
    start: int  # character span in the cleaned document
    end: int
    text: str
    context: str  # heading the passage sits under (case title, table title and header)
    kind: str  # prose | table
    chunk_id: str = ""
    page_breaks: list = field(default_factory=list)  # [offset in text, page] for pages after the first

    def __post_init__(self) -> None:
        if not self.chunk_id:
            digest = hashlib.sha1(f"{self.doc_id}|{self.start}|{self.text}".encode()).hexdigest()
            self.chunk_id = f"{self.doc_id.rsplit('.', 1)[0]}-{digest[:10]}"

    def page_at(self, offset: int) -> int:
        """The page on which the character at `offset` of the text is printed."""
        page = self.page
        for start, later_page in self.page_breaks:
            if start <= offset:
                page = later_page
        return page

    @property
    def index_text(self) -> str:
        """What the retrievers see: the passage under its heading."""
        return f"{self.context}\n{self.text}" if self.context else self.text

    def to_dict(self) -> dict:
        return asdict(self)


class _PageMap:
    """Page of every character of the cleaned document, from the blocks' pages and page breaks."""

    def __init__(self, blocks: list[Block]) -> None:
        self.starts: list[int] = []
        self.pages: list[int] = []
        for block in blocks:
            for offset, page in block.page_breaks or [[0, block.page]]:
                self.starts.append(block.start + offset)
                self.pages.append(page)

    def at(self, offset: int) -> int:
        return self.pages[max(bisect_right(self.starts, offset) - 1, 0)]

    def breaks(self, start: int, end: int) -> list[list[int]]:
        out, page = [], self.at(start)
        for i in range(bisect_right(self.starts, start), bisect_right(self.starts, end - 1)):
            if self.pages[i] != page:
                page = self.pages[i]
                out.append([self.starts[i] - start, page])
        return out


def split_document(
    doc: CleanDocument,
    doc_id: str,
    settings: SplitSettings = SplitSettings(),
    token_count: Callable[[str], int] | None = None,
    progress: bool = False,
) -> list[Passage]:
    """Passages of one document; `token_count` (prefix included) enforces the model limit.

    Linear in the document's length (benchmarks/bench_big_document.py); `progress` shows a bar
    for it, in characters.
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # builds only: 0.16 s of imports
    from tqdm import tqdm

    splitter = RecursiveCharacterTextSplitter(
        separators=SENTENCE_SEPARATORS,
        keep_separator="end",
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        add_start_index=True,
        strip_whitespace=True,
    )
    content = [(i, b) for i, b in enumerate(doc.blocks) if b.kind not in ("heading", "table")]
    pages = _PageMap(doc.blocks)
    headings = _headings(doc.blocks)
    passages: list[Passage] = []
    bar = tqdm(total=len(doc.text), unit="char", unit_scale=True, desc=f"splitting {doc_id}", disable=not progress, leave=False)
    for (_, is_table, table), group_iter in groupby(content, key=lambda ib: (tuple(ib[1].section), ib[1].kind == "row", ib[1].table)):
        at, first = next(group_iter)
        group = [first, *(b for _, b in group_iter)]
        bar.update(group[-1].end - group[0].start)
        section = SECTION_SEP.join(group[0].section)
        if is_table:
            title = _table_title(doc.blocks, at)
            section = SECTION_SEP.join([*group[0].section, title] if title else group[0].section)
            chunks = _pack_rows(group, settings.chunk_size)
            context = table
        else:
            start = group[0].start
            text = doc.text[start : group[-1].end]
            chunks = [
                (start + d.metadata["start_index"], d.page_content)
                for d in splitter.create_documents([text])
            ]
            context = headings[at]
        for chunk_start, chunk_text in chunks:
            for piece_start, piece in _fit_tokens(chunk_start, chunk_text, context, settings, token_count):
                passages.append(
                    Passage(
                        doc=doc.title,
                        doc_id=doc_id,
                        section=section,
                        page=pages.at(piece_start),
                        start=piece_start,
                        end=piece_start + len(piece),
                        text=piece,
                        context=context,
                        kind="table" if is_table else "prose",
                        page_breaks=pages.breaks(piece_start, piece_start + len(piece)),
                    )
                )
    bar.close()
    return passages


def _headings(blocks: list[Block]) -> list[str]:
    """For each block, the full heading line of the innermost section it is in (a case title says
    what the case is about), found in one pass so that splitting stays linear in the document."""
    out, heading = [], ""
    for block in blocks:
        out.append(heading)
        if block.kind == "heading":
            heading = block.text
    return out


def _table_title(blocks: list[Block], at: int) -> str:
    """The title printed just before a table's rows, the first at `at` ("" for a table without one)."""
    return blocks[at - 1].text if at and blocks[at - 1].kind == "table" else ""


def _pack_rows(rows: list[Block], size: int) -> list[tuple[int, str]]:
    """Whole rows, several to a passage, each passage a contiguous slice of the document."""
    chunks: list[tuple[int, str]] = []
    current: list[Block] = []
    for row in rows:
        if current and row.end - current[0].start > size:
            chunks.append((current[0].start, "\n".join(r.text for r in current)))
            current = []
        current.append(row)
    if current:
        chunks.append((current[0].start, "\n".join(r.text for r in current)))
    return chunks


def _fit_tokens(start, text, context, settings, token_count):
    """Halve a passage on a sentence boundary until the model sees all of it."""
    if token_count is None or token_count(f"{context}\n{text}") <= settings.max_tokens:
        return [(start, text)]
    cut = max((text.rfind(sep, 0, len(text) // 2 + 1) for sep in "\n。；，"), default=-1) + 1
    if cut <= 0 or cut >= len(text):
        cut = len(text) // 2
    return _fit_tokens(start, text[:cut], context, settings, token_count) + _fit_tokens(
        start + cut, text[cut:], context, settings, token_count
    )
