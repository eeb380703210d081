"""The page: header, chat, evidence, examples, settings (and uploads for the owner), and their events.

Internal events are private, so the API page and gradio_client list only /ask and /search. The
conversation and the language are kept in the browser (gr.BrowserState), so a reload keeps them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import gradio as gr

from .api import DEFAULT_K, make_api, readable_documents
from .chat import chat_turn, on_like, on_reason, restore, to_messages
from .pageview import render_page
from .render import esc, export_markdown, render_evidence
from .texts import EXAMPLES, TEXTS
from .uploads import MAX_UPLOAD_MB, UPLOAD_TYPES, add_upload

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

PAGE_CSS = files(__package__).joinpath("page.css").read_text(encoding="utf-8")
PAGE_JS = files(__package__).joinpath("page.js").read_text(encoding="utf-8")
# Export: the server writes the Markdown into a hidden box, the browser saves it as a file (no file route).
DOWNLOAD_JS = """(text) => {
  const url = URL.createObjectURL(new Blob([text], {type: 'text/markdown;charset=utf-8'}));
  const a = Object.assign(document.createElement('a'), {href: url, download: 'cqvet-qa-conversation.md'});
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}"""


def llm_configured(assistant) -> bool:
    return assistant.settings.llm is not None


def model_description(assistant) -> str:
    info = assistant.embedder.info
    return f"{info.name} · dim {info.dim} · max {info.max_seq_length} tokens"


def document_choices(documents: list, lang: str) -> list[tuple[str, str]]:
    """The document filter: all documents ("") first, then each by its title."""
    return [(TEXTS[lang]["all_docs"], ""), *((d.title, d.doc_id) for d in documents)]


def mode_choices(lang: str, llm: bool) -> list[tuple[str, str]]:
    t = TEXTS[lang]
    choices = [(t["extractive"], "extractive")]
    return choices + [(t["llm"], "llm")] if llm else choices


def header_html(lang: str) -> str:
    t = TEXTS[lang]
    return f'<div id="cq-header"><h1>{esc(t["title"])}</h1><p>{esc(t["intro"])}</p></div>'


def footer_html(lang: str) -> str:
    return f'<div id="cq-footer"><a href="?view=api">{esc(TEXTS[lang]["api"])}</a></div>'


def reason_choices(lang: str) -> list[tuple[str, str]]:
    return [(label, key) for key, label in TEXTS[lang]["reasons"].items()]


def build_app(assistant, feedback_path: Path | None = None, allow_upload: bool = False) -> gr.Blocks:
    """The whole page; `allow_upload` adds the owner's "add a document" control (off by default)."""
    feedback_path = Path(feedback_path) if feedback_path else assistant.settings.feedback
    llm = llm_configured(assistant)
    t = TEXTS["zh"]
    private = {"api_visibility": "private"}
    model_events = {**private, "concurrency_id": CONCURRENCY_ID}

    def several() -> bool:
        """More than one document: a filter, and each source names its document (uploads can change it)."""
        return len(readable_documents(assistant)) > 1

    def page_html(args: list) -> str:
        """The cited page, for the page view: the page's script sends [document, page, quote, language]."""
        doc_name, page, quote, lang_value = (list(args) + [None] * 4)[:4] if isinstance(args, list) else [None] * 4
        return render_page(assistant.corpus, readable_documents(assistant), doc_name, page, quote, lang_value if lang_value in TEXTS else "zh")

    with gr.Blocks(title=t["title"], analytics_enabled=False) as demo:
        demo.vibe_mode = False  # GRADIO_VIBE_MODE would add a code-editing endpoint: never here
        turns = gr.BrowserState([], storage_key="cqvet-qa-turns")
        saved_lang = gr.BrowserState("zh", storage_key="cqvet-qa-lang")
        disliked = gr.State(None)
        with gr.Row(elem_id="cq-top"):
            header = gr.HTML(header_html("zh"), js_on_load=None, elem_id="cq-top-text")
            lang = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", show_label=False, container=False, elem_id="cq-lang")
        with gr.Row(equal_height=False, elem_id="cq-main"):
            with gr.Column(scale=3, min_width=300):
                chatbot = gr.Chatbot(
                    label=t["chat"], show_label=False, height=520, elem_id="cq-chat", buttons=["copy"],
                    group_consecutive_messages=False, placeholder=t["intro"],
                    # Bubbles are escaped HTML (render.py): no Markdown, so no remote image or link
                    # from a document or an LLM, and no LaTeX.
                    render_markdown=False, latex_delimiters=[],
                )
                with gr.Row(elem_id="cq-ask"):
                    question = gr.Textbox(
                        label=t["input"], placeholder=t["placeholder"], show_label=False, scale=6,
                        max_lines=6, elem_id="cq-question", autofocus=True, container=False,
                    )
                    send = gr.Button(t["send"], variant="primary", scale=0, min_width=72, elem_id="cq-send")
                with gr.Row(elem_id="cq-tools"):
                    new_chat = gr.Button(t["new_chat"], size="sm", min_width=0, elem_id="cq-new")
                    export = gr.Button(t["export"], size="sm", min_width=0, elem_id="cq-export")
                export_text = gr.Textbox(visible="hidden", elem_id="cq-export-text")
                with gr.Group(visible=False, elem_id="cq-reason") as reason_box:
                    reason_category = gr.Radio(reason_choices("zh"), value="other", label=t["reason_title"], elem_id="cq-reason-category")
                    reason_comment = gr.Textbox(label=t["reason_comment"], max_length=500, lines=2, elem_id="cq-reason-comment")
                    reason_send = gr.Button(t["reason_send"], size="sm", elem_id="cq-reason-send")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion(t["evidence"], open=True, elem_id="cq-evidence-box") as evidence_box:
                    evidence = gr.HTML(
                        render_evidence([], "zh"), js_on_load=PAGE_JS, head=f"<style>{PAGE_CSS}</style>",
                        server_functions=[page_html], elem_id="cq-evidence", max_height=720, padding=False,
                    )
        with gr.Row(equal_height=False, elem_id="cq-more"):
            with gr.Column(min_width=300):
                doc = gr.Dropdown(
                    document_choices(readable_documents(assistant), "zh"), value="", label=t["doc"], visible=several(),
                    interactive=True, elem_id="cq-doc",
                )
                examples = gr.Dataset(
                    components=["textbox"], samples=[[q] for q in EXAMPLES["zh"]], type="index",
                    label=t["examples"], samples_per_page=10, elem_id="cq-examples",
                )
            with gr.Column(min_width=300):
                with gr.Accordion(t["settings"], open=False, elem_id="cq-settings") as settings:
                    k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label=t["k"])
                    mode = gr.Radio(mode_choices("zh", llm), value="llm" if llm else "extractive", label=t["mode"], visible=llm)
                    model = gr.Textbox(model_description(assistant), label=t["model"], interactive=False)
                if allow_upload:
                    with gr.Accordion(t["upload"], open=False, elem_id="cq-upload-box") as upload_box:
                        upload_hint = gr.Markdown(t["upload_hint"])
                        upload = gr.File(
                            file_types=list(UPLOAD_TYPES), file_count="single", type="filepath", show_label=False,
                            elem_id="cq-upload",
                        )
                        upload_status = gr.Markdown("", elem_id="cq-upload-status")
        footer = gr.HTML(footer_html("zh"), js_on_load=None)

        def page_state(history, lang_value):
            """Chat and evidence drawn from the kept turns in the page's language."""
            show_doc = several()
            return to_messages(history, lang_value, show_doc), render_evidence(history, lang_value, show_doc)

        def respond(q, history, k_value, mode_value, lang_value, doc_value):
            yield from chat_turn(assistant, q, history, k_value, mode_value, lang_value, doc_value, several())

        def respond_example(index, history, k_value, mode_value, lang_value, doc_value):
            samples = EXAMPLES.get(lang_value, EXAMPLES["zh"])
            if index is None or not 0 <= index < len(samples):
                return
            yield from chat_turn(assistant, samples[index], history, k_value, mode_value, lang_value, doc_value, several())

        chat_inputs = [turns, k, mode, lang, doc]
        chat_outputs = [question, chatbot, turns, evidence]
        question.submit(respond, [question, *chat_inputs], chat_outputs, **model_events)
        send.click(respond, [question, *chat_inputs], chat_outputs, **model_events)
        examples.click(respond_example, [examples, *chat_inputs], chat_outputs, **model_events)

        def start_over(lang_value):
            return [], [], render_evidence([], lang_value), gr.update(visible=False)

        new_chat.click(start_over, [lang], [turns, chatbot, evidence, reason_box], **private)
        chatbot.clear(start_over, [lang], [turns, chatbot, evidence, reason_box], **private)

        export.click(lambda history, lang_value: export_markdown(restore(history), lang_value), [turns, lang], [export_text], **private).then(
            None, [export_text], None, js=DOWNLOAD_JS, **private
        )

        def like(history, data: gr.LikeData):
            turn = on_like(feedback_path, restore(history), data)
            return gr.update(visible=turn is not None), turn

        chatbot.like(like, [turns], [reason_box, disliked], **private)

        def send_reason(history, turn, category, comment, lang_value):
            if on_reason(feedback_path, restore(history), turn, category, comment):
                gr.Info(TEXTS[lang_value]["reason_thanks"])
            return gr.update(visible=False), None, "other", ""

        reason_send.click(
            send_reason, [turns, disliked, reason_category, reason_comment, lang],
            [reason_box, disliked, reason_category, reason_comment], **private,
        )

        relabeled = [header, footer, question, send, new_chat, export, evidence_box, doc, examples, settings, k, mode, model,
                     reason_category, reason_comment, reason_send, chatbot, evidence, saved_lang]

        def relabel(lang_value, history):
            """Every word on the page in the chosen language, the conversation drawn again in it."""
            tx = TEXTS[lang_value]
            history = restore(history)
            updates = {
                header: header_html(lang_value),
                footer: footer_html(lang_value),
                question: gr.update(label=tx["input"], placeholder=tx["placeholder"]),
                send: gr.update(value=tx["send"]),
                new_chat: gr.update(value=tx["new_chat"]),
                export: gr.update(value=tx["export"]),
                evidence_box: gr.update(label=tx["evidence"]),
                doc: gr.update(label=tx["doc"], choices=document_choices(readable_documents(assistant), lang_value)),
                examples: gr.update(label=tx["examples"], samples=[[q] for q in EXAMPLES[lang_value]]),
                settings: gr.update(label=tx["settings"]),
                k: gr.update(label=tx["k"]),
                mode: gr.update(label=tx["mode"], choices=mode_choices(lang_value, llm)),
                model: gr.update(label=tx["model"]),
                reason_category: gr.update(label=tx["reason_title"], choices=reason_choices(lang_value)),
                reason_comment: gr.update(label=tx["reason_comment"]),
                reason_send: gr.update(value=tx["reason_send"]),
                saved_lang: lang_value,
            }
            messages, updates[evidence] = page_state(history, lang_value)
            updates[chatbot] = gr.update(value=messages, placeholder=tx["intro"])
            if allow_upload:
                updates[upload_box] = gr.update(label=tx["upload"])
                updates[upload_hint] = tx["upload_hint"]
            return updates

        if allow_upload:
            relabeled += [upload_box, upload_hint]
        lang.change(relabel, [lang, turns], relabeled, **private)

        def reopen(history, lang_value):
            """After a reload: the kept conversation, in the kept language."""
            lang_value = lang_value if lang_value in TEXTS else "zh"
            history = restore(history)
            return (history, lang_value, *page_state(history, lang_value))

        demo.load(reopen, [turns, saved_lang], [turns, lang, chatbot, evidence], **private)

        if allow_upload:

            def add_document(path, lang_value, progress=gr.Progress(track_tqdm=True)):
                tx = TEXTS[lang_value]
                if not path:
                    return gr.skip(), gr.skip(), gr.skip()
                added, message = add_upload(assistant, path, Path(path).name, lang_value, progress)
                (gr.Info if added else gr.Warning)(message)
                documents = readable_documents(assistant)
                filter_update = gr.update(choices=document_choices(documents, lang_value), visible=len(documents) > 1)
                return ("✅ " if added else "⚠️ ") + esc(message), filter_update, None

            upload.upload(
                add_document, [upload, lang], [upload_status, doc, upload], **private,
                concurrency_id="upload", concurrency_limit=1,
            )

        ask, search = make_api(assistant)
        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID)
        gr.api(search, api_name="search", concurrency_id=CONCURRENCY_ID)

    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    return demo
