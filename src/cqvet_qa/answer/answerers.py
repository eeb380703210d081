"""The answer seam: an Answerer turns a question into a stream of cited Answers.

Two are registered by name: "extractive" quotes the report (answer.pipeline.answer_question)
and "llm" has an OpenAI-compatible server write the answer from the same passages
(answer.llm), falling back to the extractive one. `choose_answerer` picks one for a request's
mode; docs/ARCHITECTURE.md says how to add another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

from ..settings import LLMSettings, Settings
from .llm import stream_llm_answer
from .pipeline import answer_question, set_citation_pages
from .types import Answer

LLM_NOT_CONFIGURED = "LLM not configured (set CQVET_LLM_BASE_URL); showing the extractive answer"


class Answerer(Protocol):
    def stream(self, assistant, question: str, history: list[tuple[str, str]], k: int, doc: str | None) -> Iterator[Answer]:
        """Yield the answer as it grows; the last one is complete. `question` is already cleaned."""


@dataclass(frozen=True)
class ExtractiveAnswerer:
    note: str = ""  # said with every answer, e.g. why it is not the LLM answer that was asked for

    @classmethod
    def from_settings(cls, settings: Settings) -> "ExtractiveAnswerer":
        return cls()

    def stream(self, assistant, question, history, k, doc) -> Iterator[Answer]:
        answer = answer_question(assistant.reading(), question, history, k=k, doc=doc)  # cites the quote's own page
        yield replace(answer, note=self.note) if self.note else answer


@dataclass(frozen=True)
class LLMAnswerer:
    llm: LLMSettings

    @classmethod
    def from_settings(cls, settings: Settings) -> "Answerer":
        """The LLM answerer, or the extractive one saying so when no server is configured."""
        return cls(settings.llm) if settings.llm else ExtractiveAnswerer(note=LLM_NOT_CONFIGURED)

    def stream(self, assistant, question, history, k, doc) -> Iterator[Answer]:
        reading = assistant.reading()
        fallback = answer_question(reading, question, history, k=k, doc=doc)
        terms = reading.query_terms(fallback.question)
        for answer in stream_llm_answer(self.llm, fallback.question, fallback.hits, fallback, terms):
            # The fallback's citation pages are set already; the LLM's cite passages by their first page.
            yield set_citation_pages(reading, answer) if answer.mode == "llm" else answer


ANSWERERS: dict[str, Callable[[Settings], Answerer]] = {
    "extractive": ExtractiveAnswerer.from_settings,
    "llm": LLMAnswerer.from_settings,
}


def choose_answerer(mode: str | None, settings: Settings) -> Answerer:
    """The answerer named `mode`; None is the LLM when one is configured, else the extractive one."""
    name = mode or ("llm" if settings.llm else "extractive")
    if name not in ANSWERERS:
        raise ValueError(f"unknown answer mode {mode!r} (use {' or '.join(map(repr, ANSWERERS))})")
    return ANSWERERS[name](settings)
