"""`cqvet-qa`: a thin command line over the Python API, used like grep or rg.

Exit status 0 when it answers, 1 when the report does not (as grep finding nothing), 2 on an
error: one line on stderr, never a traceback. Each command imports only what it needs, so a
lookup starts without torch, gradio or the build's libraries.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import sys
import textwrap
import threading
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .inputs import InvalidQuestion, clean_question
from .settings import Settings, StoreSettings, StoreSpecError

EXIT_NO_ANSWER = 1
EXIT_USAGE = 2
WRAP_WIDTH = 60  # characters per line of a passage on a terminal (CJK takes two columns each)
STDIN = "-"


class UserError(Exception):
    pass


def _positive_k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"-k takes a whole number, not {value!r}") from None
    if not 1 <= k <= 100:
        raise argparse.ArgumentTypeError(f"-k must be between 1 and 100, not {k}")
    return k


def _store(value: str) -> str:
    try:
        StoreSettings.parse(value)
    except StoreSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line saying what is wrong."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"cqvet-qa: error: {message} (see cqvet-qa --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of documents (default: ./corpus, env CQVET_CORPUS)")
    common.add_argument("--index", type=Path, help="index folder (default: ./index, env CQVET_INDEX)")
    common.add_argument("--model", help="embedding model: local path or cached hub id (env CQVET_EMBED_MODEL)")
    common.add_argument(
        "--store", type=_store,
        help="where passages are searched: faiss (default, in index/), milvus:PATH.db (Milvus Lite) or "
        "http://HOST:19530 (a Milvus server; token in CQVET_MILVUS_TOKEN) (env CQVET_STORE)",
    )
    common.add_argument("--no-rebuild", action="store_true", help="refuse a stale or damaged index instead of rebuilding")
    common.add_argument("--json", action="store_true", help="print JSON")

    parser = _Parser(prog="cqvet-qa", description="Ask the Chongqing vocational education quality report (2024).")
    parser.add_argument("--version", action="version", version=f"cqvet-qa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", parents=[common], help="build the index (only if stale, unless --force)")
    build.add_argument("--force", action="store_true", help="rebuild even if the index is current")
    search = sub.add_parser("search", parents=[common], help="hybrid search for passages")
    search.add_argument("query", help="the query; - reads it from standard input")
    search.add_argument("-k", type=_positive_k, default=5)
    search.add_argument("--doc", help="search only this document (file name or title; see cqvet-qa docs)")
    search.add_argument("--jsonl", action="store_true", help="print one JSON hit a line, for piping")
    evaluate = sub.add_parser("eval", parents=[common], help="retrieval and answer metrics on a question file")
    evaluate.add_argument("--qa", type=Path, required=True, help="JSONL questions (format of the dev set)")
    evaluate.add_argument("-k", type=_positive_k, default=10, help="passages retrieved per question")
    evaluate.add_argument("--explain", action="store_true", help="under each wrong answer, its candidates and each feature's share")
    sub.add_parser("model", parents=[common], help="show the embedding model in use")
    ask = sub.add_parser("ask", parents=[common], help="a short answer with its citations")
    ask.add_argument("question", help="the question; - reads it from standard input")
    ask.add_argument("-k", type=_positive_k, default=5, help="passages to answer from")
    ask.add_argument("--doc", help="answer from this document only (file name or title)")
    sub.add_parser("docs", parents=[common], help="list the indexed documents")
    add = sub.add_parser("add", parents=[common], help="copy documents (.txt .md .pdf) into the corpus and index them")
    add.add_argument("files", nargs="+", type=Path)
    serve = sub.add_parser("serve", parents=[common], help="start the chat UI and HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument(
        "--allow-upload", action="store_true",
        help="let the page add documents (.txt .md .pdf, at most 20 MB) to the corpus; off by default",
    )
    sub.add_parser("mcp", parents=[common], help="serve search and ask to AI assistants (Model Context Protocol over stdio)")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    argv = sys.argv[1:] if argv is None else argv
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(f"cqvet-qa: error: {_unknown_command(argv[0])} (see cqvet-qa --help)", file=sys.stderr)
        return EXIT_USAGE
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(corpus=args.corpus, index=args.index, model=args.model, store=args.store)
    except StoreSpecError as exc:  # CQVET_STORE names no store (--store was checked by the parser)
        print(f"cqvet-qa: error: CQVET_STORE: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"cqvet-qa: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if settings.debug:  # a bug: still one line unless asked (and 2, as grep on any error)
            raise
        message = " ".join(str(exc).split())
        print(f"cqvet-qa: error: unexpected {type(exc).__name__}: {message} (CQVET_DEBUG=1 shows details)", file=sys.stderr)
        return EXIT_USAGE


def _unknown_command(name: str) -> str:
    close = difflib.get_close_matches(name, COMMANDS, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; commands: {', '.join(COMMANDS)}"
    return f"unknown command '{name}'{hint}"


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors a user can cause, imported only once something has failed (their modules are heavy)."""
    from .corpus.loader import CorpusError
    from .embedding.model import ModelNotFound
    from .index_store import IndexUnusable
    from .retrieval.base import UnknownDocument
    from .retrieval.registry import StoreUnavailable, UnknownRetriever

    return (UserError, CorpusError, ModelNotFound, IndexUnusable, UnknownDocument, UnknownRetriever, StoreUnavailable, OSError)


@contextmanager
def _status(message: str, delay: float):
    """`message` on stderr if the block is still running after `delay` seconds; erased after on a terminal."""
    terminal = sys.stderr.isatty()
    shown = threading.Event()

    def show() -> None:
        sys.stderr.write(f"cqvet-qa: {message}" + ("" if terminal else "\n"))
        sys.stderr.flush()
        shown.set()

    timer = threading.Timer(delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        if shown.is_set() and terminal:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _assistant(args, settings: Settings):
    from .assistant import Assistant

    with _status("loading the model and the index…", settings.status_after):
        return Assistant.load(settings=settings, rebuild=not args.no_rebuild, progress=not args.json)


def _refuse_unknown_document(args, settings: Settings) -> None:
    """An unknown --doc is refused from the index manifest, before the model and the index load.

    Without a readable manifest (no index yet) the name is checked after the build instead.
    """
    if not args.doc:
        return
    from .index_store import IndexUnusable, current_manifest
    from .retrieval.base import UnknownDocument, document_names

    try:
        infos = current_manifest(settings.index).infos()
    except IndexUnusable:
        return
    if not any(args.doc.strip().casefold() in document_names(i.doc_id, i.title) for i in infos if i.passages):
        raise UnknownDocument(f"no indexed document is called {args.doc!r} (cqvet-qa docs lists them)")


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_build(args, settings: Settings) -> int:
    from .assistant import build_if_needed

    report = build_if_needed(settings, force=args.force, progress=not args.json)
    if args.json:
        _print_json(report.__dict__)
    else:
        _print_build(report)
    return 0


def _print_build(report) -> None:
    """One line; the documents it skipped were each told on stderr as the build read them."""
    verb = "built" if report.rebuilt else "up to date"
    changes = f"{report.added} added, {report.changed} changed, {report.removed} removed, {report.unchanged} unchanged"
    print(
        f"index {verb}: {report.documents} documents ({changes}), {report.passages} passages, "
        f"{report.embedded} embedded ({report.seconds} s)"
    )


def cmd_add(args, settings: Settings) -> int:
    from .assistant import add_documents

    copied, report = add_documents(args.files, settings, progress=not args.json)
    if args.json:
        _print_json({"copied": copied, **report.__dict__})
    else:
        print(f"copied into the corpus: {', '.join(copied) or 'nothing new'}")
        _print_build(report)
    return 0


def cmd_docs(args, settings: Settings) -> int:
    from .assistant import indexed_documents

    documents, corpus_changed = indexed_documents(settings)
    if corpus_changed:
        print("cqvet-qa: the corpus changed since the index was built (cqvet-qa build updates it)", file=sys.stderr)
    if args.json:
        _print_json({"documents": [d.__dict__ for d in documents], "corpus_changed": corpus_changed})
        return 0
    for d in documents:
        name = printable(d.doc_id)
        if d.skipped:
            print(f"{name}  skipped: {printable(d.skipped)}")
        else:
            pages = f"{d.pages} pages" if d.pages is not None else "no pages"
            encoding = f", read as {d.encoding}" if d.encoding not in ("", "utf-8") else ""
            print(f"{name}  “{printable(d.title)}”  {d.passages} passages, {pages}{encoding}")
    return 0


def printable(text: str) -> str:
    """A name from the corpus as a terminal may show it: newlines, escape sequences and other
    control or format characters become "?", so a file name cannot forge lines or recolour the screen."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _question(text: str, what: str = "question"):
    """The question cleaned as every interface cleans it (cqvet_qa.inputs); empty is a user error."""
    try:
        return clean_question(text)
    except InvalidQuestion:
        raise UserError(f"the {what} is empty") from None


def _argument_text(value: str) -> str:
    """A question or query as given, or read from standard input when it is -."""
    return sys.stdin.read() if value == STDIN else value


def cmd_search(args, settings: Settings) -> int:
    cleaned = _question(_argument_text(args.query), "query")
    if cleaned.note:
        print(f"cqvet-qa: note: {cleaned.note}", file=sys.stderr)
    args.query = cleaned.text
    _refuse_unknown_document(args, settings)
    hits = _assistant(args, settings).search(args.query, k=args.k, doc=args.doc)
    if args.jsonl:
        for h in hits:
            print(json.dumps(h.to_dict(), ensure_ascii=False))
        return 0
    if args.json:
        _print_json({"query": args.query, "hits": [h.to_dict() for h in hits]})
    else:
        wrap = sys.stdout.isatty()  # piped output keeps each passage's own lines, for grep and friends
        for h in hits:
            print(f"[{h.rank}] score {h.score:.3f} · {h.section} · p.{h.page}")
            print(textwrap.indent(textwrap.fill(h.text, width=WRAP_WIDTH) if wrap else h.text, "    "))
    return 0 if hits else EXIT_NO_ANSWER


def cmd_eval(args, settings: Settings) -> int:
    from .evaluation import read_questions, run_eval

    try:
        items = read_questions(args.qa)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    assistant = _assistant(args, settings)
    result = run_eval(assistant, items, k=args.k)
    if args.json:
        _print_json(result)
        return 0
    _print_metrics_table(result, assistant if args.explain else None)
    return 0


def _print_metrics_table(result: dict, explaining=None) -> None:
    columns = ["n", "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "wrong", "declined", "lead_accuracy"]
    rows = [("overall", result["overall"])]
    rows += [(f"lang={k}", v) for k, v in result["by_lang"].items()]
    rows += [(f"type={k}", v) for k, v in result["by_type"].items()]
    shown = [c for c in columns if any(c in m for _, m in rows)]
    widths = [max(8, len(c) + 2) for c in shown]
    print(f"{'':18}" + "".join(f"{c:>{w}}" for c, w in zip(shown, widths)))
    for name, m in rows:
        cells = "".join(f"{'-' if m.get(c) is None else m[c]:>{w}}" for c, w in zip(shown, widths))
        print(f"{name:18}{cells}")
    for failure in result.get("failures", []):
        print(f"✗ {failure['id']} {failure['question']}\n    expected {failure['expected']} · got {failure['got']}")
        if explaining is not None:
            from .answer.explain import explanation

            print("\n".join(explanation(explaining, failure["question"])))


def cmd_model(args, settings: Settings) -> int:
    from .embedding.model import Embedder

    info = Embedder(settings).info.to_dict()
    if args.json:
        _print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:15} {value}")
    return 0


def cmd_ask(args, settings: Settings) -> int:
    args.question = _argument_text(args.question)
    _question(args.question)  # an empty one is refused before the model loads; ask() cleans it and notes a cut
    _refuse_unknown_document(args, settings)
    answer = _assistant(args, settings).ask(args.question, k=args.k, doc=args.doc)
    if args.json:
        _print_json(answer.to_dict())
    else:
        if answer.note:
            print(f"({answer.note})")
        print(answer.text)
        for n, c in enumerate(answer.citations, start=1):
            print(f"  [{n}] {c.section} · p.{c.page}\n      “{c.quote}”")
    return 0 if answer.answered else EXIT_NO_ANSWER


def cmd_serve(args, settings: Settings) -> int:
    from .ui.server import launch

    launch(_assistant(args, settings), host=args.host, port=args.port, allow_upload=args.allow_upload)
    return 0


def cmd_mcp(args, settings: Settings) -> int:
    from .integrations.mcp_server import serve

    serve(settings, rebuild=not args.no_rebuild)
    return 0


COMMANDS = {
    "build": cmd_build,
    "search": cmd_search,
    "eval": cmd_eval,
    "model": cmd_model,
    "ask": cmd_ask,
    "serve": cmd_serve,
    "docs": cmd_docs,
    "add": cmd_add,
    "mcp": cmd_mcp,
}

if __name__ == "__main__":
    sys.exit(main())
