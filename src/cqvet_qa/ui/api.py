"""Input validation shared by the page and the HTTP API, and the two named endpoints `/ask` and `/search`.

Every question, from the chat or the API, is cleaned by `cqvet_qa.inputs.clean_question`
(control characters, markup, full-width forms, a 2,000-character limit with a note).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import gradio as gr

from ..inputs import (
    MAX_HISTORY_TURNS,
    MAX_INPUT_CHARS,
    MAX_QUESTION_CHARS,
    CleanQuestion,
    InvalidQuestion,
    clean_history,
    clean_question,
)
from ..retrieval.base import UnknownDocument
from .render import esc
from .texts import TEXTS

log = logging.getLogger("cqvet_qa")

DEFAULT_K = 5
API_MAX_K = {"ask": 10, "search": 50}
MODES = ("", "extractive", "llm")


def prepare_question(question, lang: str) -> tuple[CleanQuestion | None, str | None]:
    """(the cleaned question, None), or (None, a friendly message) when it cannot be asked.

    A question over MAX_QUESTION_CHARS is cut, and its note says so in the page's language.
    """
    t = TEXTS.get(lang, TEXTS["zh"])
    try:
        cleaned = clean_question(question)
    except InvalidQuestion:
        return None, t["empty"]
    if cleaned.truncated:
        cleaned = replace(cleaned, note=t["too_long"].format(n=cleaned.original_length, max=MAX_QUESTION_CHARS))
    return cleaned, None


def check_question(question, lang: str) -> str | None:
    """A friendly message when the question cannot be asked (empty once cleaned), else None."""
    return prepare_question(question, lang)[1]


def join_notes(*notes: str) -> str:
    return " · ".join(n for n in notes if n)


def _clean_history(history) -> list[tuple[str, str]]:
    """The API's history: a JSON list of [question, answer] pairs (or {question, answer} objects).

    Its size is checked before anything is cleaned: at most MAX_HISTORY_TURNS turns, each text
    at most MAX_INPUT_CHARS characters.
    """
    if history is None or history == "":
        return []
    if not isinstance(history, (list, tuple)):
        raise refuse("history must be a list of [question, answer] pairs")
    if len(history) > MAX_HISTORY_TURNS:
        raise refuse(f"history has {len(history):,} turns; at most {MAX_HISTORY_TURNS} are accepted")
    pairs = []
    for item in history:
        if isinstance(item, dict):
            q, a = item.get("question"), item.get("answer")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            q, a = item
        else:
            raise refuse("history must be a list of [question, answer] pairs")
        pair = (str(q or ""), str(a or ""))
        if (longest := max(map(len, pair))) > MAX_INPUT_CHARS:
            raise refuse(f"a history turn has {longest:,} characters; at most {MAX_INPUT_CHARS:,} are accepted")
        pairs.append(pair)
    return clean_history(pairs)


def refuse(message: str) -> gr.Error:
    """A bad-input error for API callers: a clear message, no traceback in the server log.

    Gradio renders an Error's message as HTML, so it never repeats what the caller sent.
    """
    return gr.Error(message, print_exception=False)


def clamp_k(value, most: int) -> int:
    """k as the API and chat take it: a whole number of at least 1; above `most` it is held to `most`.

    None or "" (a caller that leaves it out) means DEFAULT_K.
    """
    if value is None or value == "":
        return DEFAULT_K
    try:
        if isinstance(value, bool):
            raise TypeError
        k = int(value.strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        raise refuse(f"k must be a whole number from 1 to {most}") from None
    if k < 1:
        raise refuse(f"k must be a whole number from 1 to {most}")
    return min(k, most)


def _api_question(question, name: str = "question") -> CleanQuestion:
    """The API's question, refused before cleaning when it is not text or longer than MAX_INPUT_CHARS."""
    if question is not None and not isinstance(question, str):
        raise refuse(f"the {name} must be text")
    if question is not None and len(question) > MAX_INPUT_CHARS:
        raise refuse(f"the {name} has {len(question):,} characters; at most {MAX_INPUT_CHARS:,} are accepted")
    cleaned, problem = prepare_question(question, "en")
    if problem:
        raise refuse(f"the {name} is empty (nothing left once spaces, control characters and markup are removed)")
    return cleaned


def _doc(doc) -> str | None:
    """The API's document filter: "" or None for all documents, else a file name or title."""
    if doc is None or doc == "":
        return None
    if not isinstance(doc, str):
        raise refuse("doc must be text: a document's file name or title (empty for all documents)")
    return doc


def _unknown_doc(assistant) -> gr.Error:
    names = ", ".join(esc(d.doc_id) for d in readable_documents(assistant))
    return refuse(f"no indexed document has that name; doc must be empty (all documents) or one of: {names}")


def make_api(assistant):
    """The two named endpoints, as plain typed functions (gr.api derives the schema from the hints).

    Bad input is a gr.Error with a clear message (the client raises it); an unexpected failure is
    logged here and reported as a short apology, never a traceback.
    """

    def ask(question: str, history: list[list[str]] | None = None, k: int = DEFAULT_K, mode: str = "", doc: str = "") -> dict:
        """Answer a question about the 2024 report (or the document `doc`): {text, answered, citations[doc, section, page, quote, chunk_id], hits, question, mode, note}."""
        cleaned = _api_question(question)
        doc = _doc(doc)
        pairs = _clean_history(history)
        k = clamp_k(k, API_MAX_K["ask"])
        mode = mode or ""
        if mode not in MODES:
            raise refuse("mode must be 'extractive' or 'llm' (or empty for the default)")
        try:
            answer = assistant.ask(cleaned.text, pairs, k=k, mode=mode or None, doc=doc)
        except UnknownDocument:
            raise _unknown_doc(assistant) from None
        except Exception:  # noqa: BLE001 - the caller gets a message; the log keeps the trace
            log.exception("API ask %r failed", cleaned.text[:200])
            raise refuse(TEXTS["en"]["error"]) from None
        data = answer.to_dict()
        data["note"] = join_notes(cleaned.note, data.get("note", ""))
        return data

    def search(query: str, k: int = DEFAULT_K, doc: str = "") -> dict:
        """Hybrid retrieval over the report (or the document `doc`): {query, hits[rank, score, text, doc, section, page, chunk_id], note}."""
        cleaned = _api_question(query, "query")
        doc = _doc(doc)
        k = clamp_k(k, API_MAX_K["search"])
        try:
            hits = assistant.search(cleaned.text, k=k, doc=doc)
        except UnknownDocument:
            raise _unknown_doc(assistant) from None
        except Exception:  # noqa: BLE001
            log.exception("API search %r failed", cleaned.text[:200])
            raise refuse(TEXTS["en"]["error"]) from None
        return {"query": cleaned.text, "hits": [h.to_dict() for h in hits], "note": cleaned.note}

    return ask, search


def readable_documents(assistant) -> list:
    """The indexed documents that have passages (skipped files cannot be searched)."""
    return [d for d in assistant.documents() if not d.skipped]
