"""The page's chat: one streamed answer per turn into the chat and the evidence panel, and likes."""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

import gradio as gr

from ..feedback import append_feedback, feedback_record
from ..inputs import clean_history
from .api import MAX_HISTORY_TURNS, clamp_k, join_notes, prepare_question
from .render import answer_markdown, esc, render_evidence
from .texts import TEXTS

log = logging.getLogger("cqvet_qa")

def to_messages(turns: list[dict]) -> list[dict]:
    """Chatbot messages from our own record of the turns (the record keeps raw text for history and feedback)."""
    messages = []
    for turn in turns:
        if turn.get("shown_question") is not None:
            messages.append({"role": "user", "content": turn["shown_question"]})
        turn["message_index"] = len(messages)
        messages.append({"role": "assistant", "content": turn["shown_answer"]})
    return messages


def history_pairs(turns: list[dict]) -> list[tuple[str, str]]:
    """(question, answer text) pairs of the turns that were really answered, for follow-up questions."""
    pairs = [(t["question"], t["answer"]["text"]) for t in turns if t.get("answer")]
    return clean_history(pairs[-MAX_HISTORY_TURNS:])


_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def visible(text: str) -> str:
    """The question as typed, for showing back: markup kept (it is escaped), control characters gone."""
    shown = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)
    return re.sub(r" {2,}", " ", shown).strip()


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def chat_turn(assistant, question, turns, k, mode, lang, doc: str = "", show_doc: bool = False):
    """Stream one answer into the chat and the evidence panel; bad input gets a message, not an error.

    `doc` ("" for all) keeps the answer to one document, as chosen in the document filter.
    """
    t = TEXTS.get(lang, TEXTS["zh"])
    turns = list(turns or [])
    raw = visible(question) if isinstance(question, str) else ""
    cleaned, problem = prepare_question(question, lang)
    shown = esc(_short(raw)) if raw else None
    if problem:
        turns.append({"question": raw, "answer": None, "shown_question": shown, "shown_answer": esc(problem)})
        yield "", to_messages(turns), turns, gr.skip()
        return
    history = history_pairs(turns)
    asked = cleaned.text
    turn = {"question": asked, "answer": None, "shown_question": shown, "shown_answer": esc(t["thinking"])}
    turns.append(turn)
    yield "", to_messages(turns), turns, gr.skip()
    try:
        for answer in assistant.stream(asked, history, k=clamp_k(k, 10), mode=mode or None, doc=doc or None):
            data = answer.to_dict()
            data["note"] = join_notes(cleaned.note, data.get("note", ""))
            turn["answer"] = data
            turn["shown_answer"] = answer_markdown(data, lang, cleaned.note, show_doc)
            yield "", to_messages(turns), turns, render_evidence(data, lang, asked)
    except Exception:  # noqa: BLE001 - the chat shows a message; the log keeps the trace
        log.exception("answering %r failed", asked[:200])
        turn["answer"] = None
        turn["shown_answer"] = esc(t["error"])
        yield "", to_messages(turns), turns, gr.skip()


def latest_turn(turns: list[dict] | None) -> dict:
    """The most recent really answered turn, for re-drawing the evidence panel."""
    for turn in reversed(turns or []):
        if turn.get("answer"):
            return turn
    return {}


def on_like(path: Path, turns: list[dict], data: gr.LikeData) -> None:
    """Chatbot .like: find the turn of the rated message and log it."""
    index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
    for turn in turns or []:
        if turn.get("message_index") == index:
            append_feedback(path, feedback_record(turn, data.liked))
            return
    log.warning("feedback for unknown message %s ignored", index)
