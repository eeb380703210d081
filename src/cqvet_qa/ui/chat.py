"""The page's chat: one streamed answer per turn, the turns kept in the browser, and likes with a reason.

A turn is plain JSON (it lives in the browser's storage): the question as asked and as typed,
the answer (Answer.to_dict) or a notice key, and the length of a question that was cut. The
bubbles and the evidence are drawn from it in whichever language the page is in.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

import gradio as gr

from ..feedback import append_feedback, feedback_record
from ..inputs import MAX_HISTORY_TURNS, clean_history
from .api import clamp_k, prepare_question
from .render import bubble, esc, render_evidence

log = logging.getLogger("cqvet_qa")

MAX_KEPT_TURNS = 100  # the browser keeps at most this many turns (its storage is a few MB)


def to_messages(turns: list[dict], lang: str = "zh", show_doc: bool = False) -> list[dict]:
    """Chatbot messages of the turns: the question as typed (if any), then one bubble per turn."""
    messages = []
    for i, turn in enumerate(turns):
        if turn.get("shown") is not None:
            messages.append({"role": "user", "content": turn["shown"]})
        messages.append({"role": "assistant", "content": bubble(i, turn, lang, show_doc)})
    return messages


def turn_of_message(turns: list[dict], message_index: int) -> int | None:
    """Which turn a chat message belongs to (for likes, which Gradio reports by message)."""
    index = 0
    for i, turn in enumerate(turns):
        index += 1 if turn.get("shown") is not None else 0
        if index == message_index:
            return i
        index += 1
    return None


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


def restore(turns) -> list[dict]:
    """The turns read back from the browser: well-formed ones only, none left half-answered by a reload."""
    kept = [t for t in turns or [] if isinstance(t, dict) and (t.get("answer") or t.get("notice") in ("empty", "error"))]
    return kept[-MAX_KEPT_TURNS:]


def chat_turn(assistant, question, turns, k, mode, lang, doc: str = "", show_doc: bool = False):
    """Stream one answer into the chat and the evidence panel; bad input gets its own message, not an error.

    Yields (question box, chat messages, turns, evidence panel). `doc` ("" for all) keeps the
    answer to one document, as chosen in the document filter.
    """
    turns = restore(turns)
    raw = visible(question) if isinstance(question, str) else ""
    cleaned, problem = prepare_question(question, lang)
    shown = esc(_short(raw)) if raw else None

    taken = False

    def update(turn: dict):
        """The question box is emptied once, when the question is taken: a next question typed while
        this answer streams must not be wiped by its later updates."""
        nonlocal taken
        turns[-1:] = [turn]
        box, taken = (gr.skip() if taken else ""), True
        return box, to_messages(turns, lang, show_doc), turns, render_evidence(turns, lang, show_doc)

    turns.append({})
    if problem:
        yield update({"question": raw, "shown": shown, "answer": None, "notice": "empty"})
        return
    turn = {"question": cleaned.text, "shown": shown, "answer": None, "notice": "thinking", "cut": cleaned.original_length if cleaned.truncated else 0}
    yield update(turn)
    history = history_pairs(turns[:-1])
    try:
        for answer in assistant.stream(cleaned.text, history, k=clamp_k(k, 10), mode=mode or None, doc=doc or None):
            yield update({**turn, "answer": answer.to_dict(), "notice": None})
    except Exception:  # noqa: BLE001 - the chat shows a message; the log keeps the trace
        log.exception("answering %r failed", cleaned.text[:200])
        yield update({**turn, "answer": None, "notice": "error"})


def on_like(path: Path, turns: list[dict], data: gr.LikeData) -> int | None:
    """Chatbot .like: log the vote for the rated turn; returns that turn's index when it was a dislike."""
    index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
    turn = turn_of_message(turns or [], index)
    if turn is None:
        log.warning("feedback for unknown message %s ignored", index)
        return None
    append_feedback(path, feedback_record(turns[turn], data.liked))
    return turn if data.liked is False else None


def on_reason(path: Path, turns: list[dict], turn: int | None, category: str, comment: str) -> bool:
    """The reason given after a dislike, appended as its own line; False when there is no disliked turn."""
    if turn is None or not 0 <= turn < len(turns or []):
        return False
    append_feedback(path, feedback_record(turns[turn], False, category or "other", (comment or "").strip()))
    return True
