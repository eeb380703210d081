"""The chat UI and HTTP API (Gradio): cited answers with their evidence beside them.

`build_app` makes the Blocks; `launch` serves it on this machine only.
Named API endpoints for other tools: `/ask` and `/search` (see `make_api`); the chat's own
events are private, so they do not show in the API page or in gradio_client.
Every question and passage is HTML-escaped here before it reaches the page.
Every question, from the chat or the API, is cleaned by `cqvet_qa.inputs.clean_question`
(control characters, markup, full-width forms, a 2,000-character limit with a note).

Safe by default (`start`): binds 127.0.0.1, never a share link, no file access beyond
Gradio's own assets, uploads refused (the app takes no files), no MCP server, no SSR.
"""

from __future__ import annotations

import html
import logging
import re
import signal
import unicodedata
from dataclasses import replace
from pathlib import Path

import gradio as gr

from .feedback import append_feedback, feedback_record
from .inputs import MAX_QUESTION_CHARS, CleanQuestion, InvalidQuestion, clean_history, clean_question
from .retrieval.base import UnknownDocument

log = logging.getLogger("cqvet_qa")

MAX_HISTORY_TURNS = 20
DEFAULT_K = 5
# One group for every event that runs the model, so chat and API share the limit.
CONCURRENCY_ID = "assistant"
# 16 gradio_client users × 5 distinct questions on 2 cores (tests/test_load.py), two runs each:
#   limit 1: p50 2.4 s, p95 3.8 s · 2: p50 2.2-2.3 s, p95 2.6-3.0 s · 4: p50 2.1 s, p95 2.4-3.0 s
#   · 8: p50 2.1-2.2 s, p95 2.5-2.8 s; 80 answers in 12-13 s for 2, 4 and 8 alike.
# Extractive answers are CPU-bound, so beyond the cores only queueing moves; 1 lets one slow
# question hold up the rest. 4 costs nothing here and keeps LLM answers, which mostly wait on
# the server, from queueing behind each other.
CONCURRENCY_LIMIT = 4
QUEUE_MAX_SIZE = 64
API_MAX_K = {"ask": 10, "search": 50}
MODES = ("", "extractive", "llm")

EXAMPLES = [
    "有多少个鲁班工坊？",
    "2024年办学条件总体达标率是多少？",
    "How many Luban workshops?",
    "重庆五一职业技术学院打造了哪些党建品牌？",
    "2024年重庆中职学生继续升学的比例是多少？",
    "中高职贯通培养招了多少学生？",
    "What is the overall compliance rate of school-running conditions in 2024?",
]

TEXTS = {
    "zh": {
        "title": "重庆职业教育质量年报问答",
        "intro": "本助手覆盖《重庆市职业教育质量年度报告（2024年度）》。答案均摘自报告原文，并注明章节和页码。",
        "chat": "对话",
        "placeholder": "请输入关于 2024 年度报告的问题，例如“有多少个鲁班工坊？”",
        "input": "问题",
        "send": "发送",
        "clear": "清空对话",
        "examples": "示例问题（点击即问）",
        "settings": "设置",
        "k": "检索段落数",
        "mode": "回答方式",
        "extractive": "原文摘录",
        "llm": "大模型生成（LLM）",
        "model": "当前模型",
        "doc": "文档",
        "all_docs": "全部文档",
        "evidence": "证据",
        "evidence_empty": "提问后，答案所依据的报告原文会显示在这里。",
        "cited": "引用的原文",
        "closest": "最接近的段落（不足以回答）",
        "others": "其他检索到的段落",
        "page": "第 {page} 页",
        "score": "检索得分 {score:.2f}",
        "full": "展开全文",
        "as_answered": "按此问题作答：",
        "not_found": "报告中没有找到可以回答这个问题的内容。",
        "no_passages": "没有检索到相关段落。",
        "quote_missing": "（支持句未能在段落中定位）",
        "thinking": "正在报告中查找……",
        "source": "来源：",
        "empty": "请先输入一个问题，例如：“有多少个鲁班工坊？”",
        "too_long": "问题太长（{n} 字），只按前 {max} 字作答。",
        "error": "抱歉，回答这个问题时出错了，请稍后再试或换个问法。",
    },
    "en": {
        "title": "Chongqing Vocational Education Report Q&A",
        "intro": "Covers the Chongqing Vocational Education Quality Annual Report (2024). "
        "Answers are taken from the report itself, with section and page.",
        "chat": "Chat",
        "placeholder": "Ask about the 2024 report, e.g. “How many Luban workshops?”",
        "input": "Question",
        "send": "Send",
        "clear": "Clear chat",
        "examples": "Example questions (click to ask)",
        "settings": "Settings",
        "k": "Passages to retrieve",
        "mode": "Answer mode",
        "extractive": "Extract from the report",
        "llm": "Generate with an LLM",
        "model": "Model in use",
        "doc": "Document",
        "all_docs": "All documents",
        "evidence": "Evidence",
        "evidence_empty": "Ask a question: the report passages behind the answer will appear here.",
        "cited": "Cited passages",
        "closest": "Closest passages (not enough to answer)",
        "others": "Other retrieved passages",
        "page": "p. {page}",
        "score": "score {score:.2f}",
        "full": "Show full passage",
        "as_answered": "Answered as: ",
        "not_found": "The report does not say anything that answers this question.",
        "no_passages": "No passages were retrieved.",
        "quote_missing": "(supporting sentence not located in the passage)",
        "thinking": "Searching the report…",
        "source": "Source: ",
        "empty": "Please type a question first, e.g. “How many Luban workshops?”",
        "too_long": "That question was long ({n:,} characters): only its first {max:,} were used.",
        "error": "Sorry, something went wrong while answering. Please try again or rephrase.",
    },
}

EVIDENCE_CSS = """
.ev-empty { color: var(--body-text-color-subdued); padding: 8px 0; }
h3 { margin: 4px 0 8px; font-size: 1.05em; }
h4 { margin: 14px 0 6px; font-size: 0.95em; color: var(--body-text-color-subdued); }
.ev-question { font-size: 0.9em; color: var(--body-text-color-subdued); margin-bottom: 8px; }
.ev-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; background: var(--background-fill-secondary); }
.ev-other { border-left-color: var(--border-color-primary); }
.ev-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.ev-meta b { color: var(--body-text-color); }
.ev-page { font-weight: 600; color: var(--color-accent); }
.ev-excerpt { margin: 0 0 6px; line-height: 1.7; }
mark { background: #fde68a; color: #111; padding: 0 2px; border-radius: 3px; }
details summary { cursor: pointer; font-size: 0.85em; color: var(--body-text-color-subdued); }
details p { margin: 6px 0 0; line-height: 1.7; white-space: pre-wrap; }
.ev-note { font-size: 0.85em; color: var(--body-text-color-subdued); }
"""


# ---------------------------------------------------------------- evidence HTML


PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # bullet glyphs from the PDF's icon fonts: boxes on screen


def esc(text) -> str:
    """Escape anything that came from a user or the corpus: it must show as text, never run."""
    return html.escape(PRIVATE_USE.sub("", str(text)), quote=True)


def _locate(text: str, quote: str) -> tuple[int, int] | None:
    """Where the quote sits in the passage; tolerant of stray spaces and private-use glyphs from the PDF."""
    quote = quote.strip()
    if not quote:
        return None
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    core = re.sub(r"[\s\ue000-\uf8ff]+", "", quote)
    if not core:
        return None
    # Match the quote's characters in order, allowing whitespace/private-use between them.
    pattern = r"[\s\ue000-\uf8ff]*".join(re.escape(ch) for ch in core)
    found = re.search(pattern, text)
    return (found.start(), found.end()) if found else None


def highlight(text: str, quote: str, window: int | None = None) -> tuple[str, bool]:
    """Escaped passage with the supporting sentence in <mark>; with `window`, only the context around it."""
    span = _locate(text, quote)
    if span is None:
        shown = text if window is None else text[: 2 * window]
        return esc(shown) + ("…" if len(shown) < len(text) else ""), False
    start, end = span
    lo, hi = (0, len(text)) if window is None else (max(0, start - window), min(len(text), end + window))
    before = ("…" if lo > 0 else "") + esc(text[lo:start])
    after = esc(text[end:hi]) + ("…" if hi < len(text) else "")
    return f"{before}<mark>{esc(text[start:end])}</mark>{after}", True


def _meta(t: dict, number: str, section: str, page, score: float | None, doc: str = "") -> str:
    """One line saying where a passage is: its number, section path, page and retrieval score."""
    parts = [f"<b>{esc(number)}</b> {esc(section)}", f'<span class="ev-page">{esc(t["page"].format(page=page))}</span>']
    if score is not None:
        parts.append(esc(t["score"].format(score=score)))
    line = " · ".join(parts)
    if doc:
        line += f"<br>{esc(doc)}"
    return f'<div class="ev-meta">{line}</div>'


def _cited_card(t: dict, number: int, citation: dict, hit: dict | None) -> str:
    """A cited passage: the supporting sentence marked in context, the whole passage behind <details>."""
    passage = hit["text"] if hit else citation["quote"]
    excerpt, found = highlight(passage, citation["quote"], window=60)
    if not found:
        excerpt = f"<mark>{esc(citation['quote'])}</mark> <span class=\"ev-note\">{esc(t['quote_missing'])}</span>"
    full, _ = highlight(passage, citation["quote"])
    score = hit["score"] if hit else None
    return (
        '<div class="ev-card ev-cited">'
        + _meta(t, f"[{number}]", citation["section"], citation["page"], score, citation.get("doc", ""))
        + f'<p class="ev-excerpt">{excerpt}</p>'
        + f"<details><summary>{esc(t['full'])}</summary><p>{full}</p></details>"
        + "</div>"
    )


def _other_card(t: dict, hit: dict) -> str:
    """A retrieved passage the answer did not cite: short, expandable."""
    text = hit["text"]
    head = esc(text[:90]) + ("…" if len(text) > 90 else "")
    return (
        '<div class="ev-card ev-other">'
        + _meta(t, f"#{hit['rank']}", hit["section"], hit["page"], hit["score"], hit.get("doc", ""))
        + f"<details><summary>{head}</summary><p>{esc(text)}</p></details>"
        + "</div>"
    )


def render_evidence(answer: dict | None, lang: str = "zh", asked: str | None = None) -> str:
    """The evidence panel for the latest answer (a dict from Answer.to_dict), all text escaped.

    The question as answered is shown when it differs from what was asked (a completed follow-up).
    """
    t = TEXTS.get(lang, TEXTS["zh"])
    if not answer:
        return f'<div class="ev"><h3>{esc(t["evidence"])}</h3><p class="ev-empty">{esc(t["evidence_empty"])}</p></div>'
    hits = answer.get("hits") or []
    by_chunk = {h["chunk_id"]: h for h in hits}
    cited = answer.get("citations") or []
    parts = [f'<div class="ev"><h3>{esc(t["evidence"])}</h3>']
    if answer.get("question") and answer["question"].strip() != (asked or "").strip():
        parts.append(f'<div class="ev-question">{esc(t["as_answered"])}{esc(answer["question"])}</div>')
    if answer.get("note"):
        parts.append(f'<div class="ev-note">{esc(answer["note"])}</div>')
    answered = answer.get("answered", True)
    if not answered:
        parts.append(f'<p class="ev-empty">{esc(t["not_found"])}</p>')
    if cited:
        parts.append(f"<h4>{esc(t['cited'] if answered else t['closest'])}</h4>")
        parts += [_cited_card(t, n, c, by_chunk.get(c["chunk_id"])) for n, c in enumerate(cited, start=1)]
    cited_ids = {c["chunk_id"] for c in cited}
    others = [h for h in hits if h["chunk_id"] not in cited_ids]
    if others:
        parts.append(f"<h4>{esc(t['others'])}</h4>")
        parts += [_other_card(t, h) for h in others]
    elif not hits:
        parts.append(f'<p class="ev-empty">{esc(t["no_passages"])}</p>')
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------- chat


def answer_markdown(answer: dict, lang: str, note: str = "", show_doc: bool = False) -> str:
    """The chat bubble: the short answer plus where it comes from, escaped (the Chatbot renders Markdown).

    `note` (e.g. that a long question was cut) is shown above the answer; `show_doc` names each
    source's document (when the index holds more than one).
    """
    t = TEXTS.get(lang, TEXTS["zh"])
    text = answer.get("text") or ""
    if not answer.get("answered", True) and not text:
        text = t["not_found"]
    lines = [f"<small>{esc(note)}</small>"] if note else []
    lines.append(esc(text))
    sources = []
    for n, c in enumerate(answer.get("citations") or [], start=1):
        where = f"《{esc(c['doc'])}》 " if show_doc and c.get("doc") else ""
        sources.append(f"[{n}] {where}{esc(c['section'])} · {esc(t['page'].format(page=c['page']))}")
    if sources and answer.get("answered", True):  # unanswered: the panel shows the closest passages instead
        lines.append(f"<small>{esc(t['source'])}" + "; ".join(sources) + "</small>")
    return "\n\n".join(lines)


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


_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def visible(text: str) -> str:
    """The question as typed, for showing back: markup kept (it is escaped), control characters gone."""
    shown = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)
    return re.sub(r" {2,}", " ", shown).strip()


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def join_notes(*notes: str) -> str:
    return " · ".join(n for n in notes if n)


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
        for answer in assistant.stream(asked, history, k=_k(k, 10), mode=mode or None, doc=doc or None):
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


# ---------------------------------------------------------------- feedback


def on_like(path: Path, turns: list[dict], data: gr.LikeData) -> None:
    """Chatbot .like: find the turn of the rated message and log it."""
    index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
    for turn in turns or []:
        if turn.get("message_index") == index:
            append_feedback(path, feedback_record(turn, data.liked))
            return
    log.warning("feedback for unknown message %s ignored", index)


# ---------------------------------------------------------------- API


def _clean_history(history) -> list[tuple[str, str]]:
    """The API's history: a JSON list of [question, answer] pairs (or {question, answer} objects)."""
    if history is None or history == "":
        return []
    if not isinstance(history, (list, tuple)):
        raise refuse("history must be a list of [question, answer] pairs")
    pairs = []
    for item in list(history)[-MAX_HISTORY_TURNS:]:
        if isinstance(item, dict):
            q, a = item.get("question"), item.get("answer")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            q, a = item
        else:
            raise refuse("history must be a list of [question, answer] pairs")
        pairs.append((str(q or ""), str(a or "")))
    return clean_history(pairs)


def refuse(message: str) -> gr.Error:
    """A bad-input error for API callers: a clear message, no traceback in the server log.

    Gradio renders an Error's message as HTML, so it never repeats what the caller sent.
    """
    return gr.Error(message, print_exception=False)


def _k(value, most: int) -> int:
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
    if question is not None and not isinstance(question, str):
        raise refuse(f"the {name} must be text")
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
        k = _k(k, API_MAX_K["ask"])
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
        k = _k(k, API_MAX_K["search"])
        try:
            hits = assistant.search(cleaned.text, k=k, doc=doc)
        except UnknownDocument:
            raise _unknown_doc(assistant) from None
        except Exception:  # noqa: BLE001
            log.exception("API search %r failed", cleaned.text[:200])
            raise refuse(TEXTS["en"]["error"]) from None
        return {"query": cleaned.text, "hits": [h.to_dict() for h in hits], "note": cleaned.note}

    return ask, search


# ---------------------------------------------------------------- layout


def llm_configured(assistant) -> bool:
    return assistant.settings.llm is not None


def model_description(assistant) -> str:
    info = assistant.embedder.info
    return f"{info.name} · dim {info.dim} · max {info.max_seq_length} tokens · index {assistant.index}"


def readable_documents(assistant) -> list:
    """The indexed documents that have passages (skipped files cannot be searched)."""
    return [d for d in assistant.documents() if not d.skipped]


def document_choices(documents: list, lang: str) -> list[tuple[str, str]]:
    """The document filter: all documents ("") first, then each by its title."""
    return [(TEXTS[lang]["all_docs"], ""), *((d.title, d.doc_id) for d in documents)]


def mode_choices(lang: str, llm: bool) -> list[tuple[str, str]]:
    t = TEXTS[lang]
    choices = [(t["extractive"], "extractive")]
    return choices + [(t["llm"], "llm")] if llm else choices


def build_app(assistant, feedback_path: Path | None = None) -> gr.Blocks:
    """The whole page; internal events are private so the API lists only /ask and /search."""
    feedback_path = Path(feedback_path) if feedback_path else assistant.settings.feedback
    llm = llm_configured(assistant)
    t = TEXTS["zh"]
    private = {"api_visibility": "private"}
    model_events = {**private, "concurrency_id": CONCURRENCY_ID}
    documents = readable_documents(assistant)
    several = len(documents) > 1  # one document: no filter, no document names on sources

    with gr.Blocks(title=t["title"], analytics_enabled=False) as demo:
        demo.vibe_mode = False  # GRADIO_VIBE_MODE would add a code-editing endpoint: never here
        turns = gr.State([])
        with gr.Row(equal_height=True):
            header = gr.Markdown(f"## {t['title']}\n{t['intro']}", elem_id="cq-header")
            lang = gr.Radio(
                [("中文", "zh"), ("English", "en")], value="zh", label="语言 / Language",
                scale=0, min_width=260, elem_id="cq-lang",
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label=t["chat"], height=480, elem_id="cq-chat", buttons=["copy"])
                with gr.Row():
                    question = gr.Textbox(
                        label=t["input"], placeholder=t["placeholder"], show_label=False, scale=6,
                        max_lines=6, elem_id="cq-question", autofocus=True,
                    )
                    send = gr.Button(t["send"], variant="primary", scale=1, min_width=110, elem_id="cq-send")
                    clear = gr.Button(t["clear"], scale=1, min_width=110, elem_id="cq-clear")
                doc = gr.Dropdown(
                    document_choices(documents, "zh"), value="", label=t["doc"], visible=several,
                    interactive=True, elem_id="cq-doc",
                )
                examples = gr.Dataset(
                    components=["textbox"], samples=[[q] for q in EXAMPLES], type="index",
                    label=t["examples"], samples_per_page=len(EXAMPLES), elem_id="cq-examples",
                )
                with gr.Accordion(t["settings"], open=False, elem_id="cq-settings") as settings:
                    k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label=t["k"])
                    mode = gr.Radio(mode_choices("zh", llm), value="llm" if llm else "extractive", label=t["mode"], visible=llm)
                    model = gr.Textbox(model_description(assistant), label=t["model"], interactive=False)
            with gr.Column(scale=2):
                evidence = gr.HTML(
                    render_evidence(None), css_template=EVIDENCE_CSS, js_on_load=None,
                    elem_id="cq-evidence", max_height=720, padding=True, container=True,
                )

        def respond(q, history, k_value, mode_value, lang_value, doc_value):
            yield from chat_turn(assistant, q, history, k_value, mode_value, lang_value, doc_value, several)

        def respond_example(index, history, k_value, mode_value, lang_value, doc_value):
            if index is None:
                return
            yield from chat_turn(assistant, EXAMPLES[index], history, k_value, mode_value, lang_value, doc_value, several)

        chat_inputs = [turns, k, mode, lang, doc]
        chat_outputs = [question, chatbot, turns, evidence]
        question.submit(respond, [question, *chat_inputs], chat_outputs, **model_events)
        send.click(respond, [question, *chat_inputs], chat_outputs, **model_events)
        examples.click(respond_example, [examples, *chat_inputs], chat_outputs, **model_events)

        def reset(lang_value):
            return [], [], render_evidence(None, lang_value)

        clear.click(reset, [lang], [chatbot, turns, evidence], **private)
        chatbot.clear(reset, [lang], [chatbot, turns, evidence], **private)
        def like(history, data: gr.LikeData):
            on_like(feedback_path, history, data)

        chatbot.like(like, [turns], None, **private)

        def relabel(lang_value, history):
            tx = TEXTS[lang_value]
            return (
                f"## {tx['title']}\n{tx['intro']}",
                gr.update(label=tx["chat"]),
                gr.update(label=tx["input"], placeholder=tx["placeholder"]),
                gr.update(value=tx["send"]),
                gr.update(value=tx["clear"]),
                gr.update(label=tx["doc"], choices=document_choices(documents, lang_value)),
                gr.update(label=tx["examples"]),
                gr.update(label=tx["settings"]),
                gr.update(label=tx["k"]),
                gr.update(label=tx["mode"], choices=mode_choices(lang_value, llm)),
                gr.update(label=tx["model"]),
                render_evidence(latest_turn(history).get("answer"), lang_value, latest_turn(history).get("question")),
            )

        lang.change(
            relabel, [lang, turns],
            [header, chatbot, question, send, clear, doc, examples, settings, k, mode, model, evidence], **private,
        )

        ask, search = make_api(assistant)
        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID)
        gr.api(search, api_name="search", concurrency_id=CONCURRENCY_ID)

    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    return demo


DEFAULT_HOST = "127.0.0.1"

# What `start` passes to Gradio, whatever GRADIO_* variables say: no share link, no uploads
# (max_file_size 0: the app has no file inputs, so POST /gradio_api/upload gets 413), no MCP
# server, no server-side rendering, no error details sent to clients. Gradio itself serves no
# file outside its own assets and temp files: allowed_paths stays empty unless the operator
# sets GRADIO_ALLOWED_PATHS on purpose (tests/test_safe_defaults.py checks the defaults).
SAFE_LAUNCH = {
    "share": False,
    "max_file_size": 0,
    "mcp_server": False,
    "ssr_mode": False,
    "pwa": False,
    "enable_monitoring": False,
    "show_error": False,
    "strict_cors": True,
}


def start(assistant, host: str = DEFAULT_HOST, port: int = 7860, feedback_path: Path | None = None, warm_up: bool = True):
    """Serve the UI and API on host:port in the background; returns (demo, url). `launch` blocks on it."""
    if warm_up:
        assistant.search("重庆职业教育", k=1)  # warm up tokenizer and model so the first question is quick
    demo = build_app(assistant, feedback_path)
    _, url, _ = demo.launch(
        server_name=host or DEFAULT_HOST, server_port=port, prevent_thread_lock=True, quiet=True, **SAFE_LAUNCH
    )
    return demo, url


def _stop_like_ctrl_c(signum, frame):
    raise KeyboardInterrupt


def launch(assistant, host: str = DEFAULT_HOST, port: int = 7860, feedback_path: Path | None = None) -> None:
    """Serve the UI and API on host:port (never shared publicly) and block until stopped."""
    demo, url = start(assistant, host, port, feedback_path)
    print(f"cqvet-qa UI and API running at {url} (Ctrl+C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)  # a service manager's stop closes the server too
    try:
        demo.block_thread()
    finally:
        demo.close()
