"""`cqvet-qa mcp`: the assistant as a Model Context Protocol server over stdio, for AI assistants.

The tools `search`, `ask` and `documents` return the public dataclasses (`Hit`, `Answer`,
`Citation`, `DocumentInfo`) as structured content, so a client sees the same field names as
`--json` and the Python API. The assistant starts loading when the server starts and is shared
by every call (the first call waits for it). A bad argument or an unknown document is a tool
error of one line, as the CLI would print it; the server goes on serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

from .. import __version__
from ..answer.types import Answer
from ..assistant import Assistant
from ..corpus.loader import CorpusError
from ..embedding.model import ModelNotFound
from ..index_store import DocumentInfo, IndexUnusable
from ..inputs import InvalidQuestion, clean_question
from ..retrieval.base import Hit, UnknownDocument
from ..retrieval.registry import UnknownRetriever
from ..settings import Settings

log = logging.getLogger("cqvet_qa")

MAX_K = 20
# Failures the caller can act on: their message goes back as the tool error (as the CLI prints it).
USER_ERRORS = (InvalidQuestion, UnknownDocument, CorpusError, ModelNotFound, IndexUnusable, UnknownRetriever)
ARGUMENT_RULES = {
    "query": "query must be text",
    "question": "question must be text",
    "k": f"k must be a whole number from 1 to {MAX_K}",
    "history": "history must be a list of {question, answer} turns",
    "doc": "doc must be a document's file name or title (see the documents tool), or left out",
}
INSTRUCTIONS = (
    "Answers questions about the 重庆市职业教育质量年度报告（2024年度） (Chongqing Vocational Education "
    "Quality Annual Report 2024) and any other indexed documents, quoting the sentence each answer rests on "
    "with its section and page. Use `ask` for a short cited answer, `search` for the passages themselves, "
    "`documents` for what is indexed. Questions may be in Chinese or English. Cite the section and page you "
    "were given. 回答关于重庆市职业教育质量年度报告的问题，并引用原文、章节和页码。"
)
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

Query = Annotated[str, Field(description="What to look for, in Chinese or English. 要查找的内容（中文或英文）。")]
Question = Annotated[str, Field(description="The question, in Chinese or English. 问题（中文或英文）。")]
K = Annotated[int, Field(ge=1, le=MAX_K, description=f"How many passages to return (1-{MAX_K}). 返回的段落数。")]
Doc = Annotated[
    str | None,
    Field(description="Only this document: a file name or title from `documents`; leave out for all. 只查这一份文件。"),
]


@dataclass
class Turn:
    """An earlier turn of the conversation, so that a follow-up ("那高职呢？") can be completed."""

    question: str
    answer: str


History = Annotated[
    list[Turn] | None,
    Field(description="Earlier turns, oldest first, so that a follow-up (那高职呢？) is understood. 之前的问答。"),
]


@dataclass
class Passages:
    """The `search` tool's result: the query as searched (cleaned) and its passages, best first."""

    query: str
    hits: list[Hit]


@dataclass
class Documents:
    """The `documents` tool's result: every document in the index (unreadable ones with `skipped`)."""

    documents: list[DocumentInfo]


T = TypeVar("T")


class SharedAssistant:
    """One assistant for the whole server, loaded once; calls take turns on it.

    A failed load is not kept: the next call tries again and reports why to its caller.
    """

    def __init__(self, load: Callable[[], Assistant]) -> None:
        self._load = load
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    def use(self, work: Callable[[Assistant], T]) -> T:
        with self._lock:
            try:
                if self._assistant is None:
                    self._assistant = self._load()
                return work(self._assistant)
            except USER_ERRORS as exc:
                raise ToolError(str(exc)) from exc

    def warm(self) -> None:
        """Load now (run on a thread at start), so that the first call does not wait the whole load."""
        try:
            self.use(lambda assistant: None)
        except Exception as exc:  # noqa: BLE001 - the next call retries and tells its caller
            log.warning("cqvet-qa: the assistant did not load: %s", exc)


class _Server(MCPServer):
    """An MCPServer whose tool errors are the CLI's one-line messages.

    The SDK words a bad argument as pydantic's multi-line report, and prefixes a tool's own
    error with "Error executing tool NAME:"; a crash keeps the SDK's generic message.
    """

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(argument_problem(cause)) from cause
            if isinstance(cause, ToolError):
                raise ToolError(str(cause)) from cause
            raise


def argument_problem(error: ValidationError) -> str:
    """One line saying which arguments are wrong and what each must be."""
    names = dict.fromkeys(str(e["loc"][0]) for e in error.errors() if e["loc"])
    return "; ".join(ARGUMENT_RULES.get(n, f"{n} is not a valid argument") for n in names) or "the arguments are not valid"


def build_server(assistant: SharedAssistant) -> MCPServer:
    server = _Server("cqvet-qa", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    @server.tool(annotations=READ_ONLY)
    def search(query: Query, k: K = 5, doc: Doc = None) -> Passages:
        """Find the passages of the report that match a query (hybrid keyword + semantic search).
        Each hit has its text, doc, section, page, score, rank and chunk_id; cite section and page.
        在报告中检索相关段落，返回原文、章节、页码和得分。"""
        try:
            cleaned = clean_question(query).text
        except InvalidQuestion:
            raise ToolError("the query is empty") from None
        return assistant.use(lambda a: Passages(cleaned, a.search(cleaned, k=k, doc=doc)))

    @server.tool(annotations=READ_ONLY)
    def ask(question: Question, history: History = None, doc: Doc = None) -> Answer:
        """Answer a question from the report: a short answer (text), whether the report gives it (answered),
        the model's probability that it is right (confidence), the quoted sentences it rests on (citations:
        doc, section, page, quote) and the passages searched (hits). Pass earlier turns as history for follow-ups.
        回答关于报告的问题：简短答案、是否有答案、置信度、引用原文（章节、页码）。"""
        turns = [(t.question, t.answer) for t in history or []]
        return assistant.use(lambda a: a.ask(question, turns, doc=doc))

    @server.tool(annotations=READ_ONLY)
    def documents() -> Documents:
        """List the indexed documents (doc_id, title, passages, pages); a doc_id or title can be passed as `doc`.
        列出已索引的文件。"""
        return assistant.use(lambda a: Documents(a.documents()))

    return server


def serve(settings: Settings, rebuild: bool = True) -> None:
    """Serve over stdio until the client closes the connection."""
    assistant = SharedAssistant(lambda: Assistant.load(settings=settings, rebuild=rebuild))
    threading.Thread(target=assistant.warm, name="cqvet-qa-load", daemon=True).start()
    build_server(assistant).run("stdio")
