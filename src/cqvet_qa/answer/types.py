"""What an answer is, as plain dataclasses that serialise to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..retrieval.base import Hit

MAX_ANSWER_CHARS = 150


@dataclass
class Citation:
    """Where an answer comes from; part of the public API (`from cqvet_qa import Citation`)."""

    doc: str  # the title of the document
    section: str  # the heading path of the passage
    page: int  # the page the quoted sentence is printed on
    quote: str  # the exact sentence of the passage that supports the answer
    chunk_id: str  # the passage's id (the `chunk_id` of a Hit)


@dataclass
class Answer:
    """A short answer with its evidence; part of the public API (`from cqvet_qa import Answer`).

    Its field names are also the keys of `ask --json`, the MCP `ask` tool and the HTTP API.
    """

    text: str  # the short answer, in the question's language (or a sentence saying the report does not give it)
    answered: bool  # False when the report does not give the answer; hits still holds the nearest passages
    citations: list[Citation] = field(default_factory=list)  # the sentences the answer rests on
    hits: list[Hit] = field(default_factory=list)  # the passages it was looked for in, best first
    question: str = ""  # the question as answered (follow-ups made complete)
    mode: str = "extractive"  # extractive | llm
    note: str = ""  # e.g. why the LLM answer fell back to the extractive one, or that the question was cut
    confidence: float | None = None  # the answer model's probability that it is right (extractive answers; None for LLM ones)

    def to_dict(self) -> dict:
        return asdict(self)
