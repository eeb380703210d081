"""The page: header, chat, document filter, examples, settings and evidence panel, and their events.

Internal events are private, so the API page and gradio_client list only /ask and /search.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from .api import DEFAULT_K, make_api, readable_documents
from .chat import chat_turn, latest_turn, on_like
from .render import EVIDENCE_CSS, render_evidence
from .texts import EXAMPLES, TEXTS

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


def llm_configured(assistant) -> bool:
    return assistant.settings.llm is not None


def model_description(assistant) -> str:
    info = assistant.embedder.info
    return f"{info.name} · dim {info.dim} · max {info.max_seq_length} tokens · index {assistant.index}"


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
