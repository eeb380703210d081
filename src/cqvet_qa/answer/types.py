"""What an answer is, as plain dataclasses that serialise to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..retrieval.base import Hit

MAX_ANSWER_CHARS = 150


@dataclass
class Citation:
    doc: str
    section: str
    page: int
    quote: str  # the exact sentence of the passage that supports the answer
    chunk_id: str


@dataclass
class Answer:
    text: str  # the short answer, in the question's language
    answered: bool  # False when the report does not give it
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    question: str = ""  # the question as answered (follow-ups made complete)
    mode: str = "extractive"  # extractive | llm
    note: str = ""  # e.g. why the LLM answer fell back to the extractive one
    confidence: float | None = None  # the ranker's probability that the answer is right (extractive only)

    def to_dict(self) -> dict:
        return asdict(self)
