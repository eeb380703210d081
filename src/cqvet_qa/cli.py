"""`cqvet-qa`: a thin command line over the Python API.

User errors end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from pathlib import Path

from .corpus.loader import CorpusError
from .embedding.model import ModelNotFound
from .index_store import IndexUnusable
from .inputs import InvalidQuestion, clean_question
from .retrieval.base import UnknownDocument
from .retrieval.registry import UnknownRetriever
from .settings import Settings

EXIT_USAGE = 2


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


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line saying what is wrong."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"cqvet-qa: error: {message} (see cqvet-qa --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of documents (default: ./corpus, env CQVET_CORPUS)")
    common.add_argument("--index", type=Path, help="index folder (default: ./index, env CQVET_INDEX)")
    common.add_argument("--model", help="embedding model: local path or cached hub id (env CQVET_EMBED_MODEL)")
    common.add_argument("--no-rebuild", action="store_true", help="refuse a stale or damaged index instead of rebuilding")
    common.add_argument("--json", action="store_true", help="print JSON")

    parser = _Parser(prog="cqvet-qa", description="Ask the Chongqing vocational education quality report (2024).")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", parents=[common], help="build the index (only if stale, unless --force)")
    build.add_argument("--force", action="store_true", help="rebuild even if the index is current")
    search = sub.add_parser("search", parents=[common], help="hybrid search for passages")
    search.add_argument("query")
    search.add_argument("-k", type=_positive_k, default=5)
    search.add_argument("--doc", help="search only this document (file name or title; see cqvet-qa docs)")
    evaluate = sub.add_parser("eval", parents=[common], help="retrieval and answer metrics on a question file")
    evaluate.add_argument("--qa", type=Path, required=True, help="JSONL questions (format of the dev set)")
    evaluate.add_argument("-k", type=_positive_k, default=10, help="passages retrieved per question")
    sub.add_parser("model", parents=[common], help="show the embedding model in use")
    ask = sub.add_parser("ask", parents=[common], help="a short answer with its citations")
    ask.add_argument("question")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    args = _parser().parse_args(argv)
    settings = Settings.from_env(corpus=args.corpus, index=args.index, model=args.model)
    try:
        return COMMANDS[args.command](args, settings)
    except (UserError, CorpusError, ModelNotFound, IndexUnusable, UnknownDocument, UnknownRetriever, OSError) as exc:
        print(f"cqvet-qa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not a usage error: still one line (CQVET_DEBUG=1 shows the traceback)
        if settings.debug:
            raise
        message = " ".join(str(exc).split())
        print(f"cqvet-qa: error: unexpected {type(exc).__name__}: {message} (CQVET_DEBUG=1 shows details)", file=sys.stderr)
        return 1


def _assistant(args, settings: Settings):
    from .assistant import Assistant

    return Assistant.load(settings=settings, rebuild=not args.no_rebuild, progress=not args.json)


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
        if d.skipped:
            print(f"{d.doc_id}  skipped: {d.skipped}")
        else:
            pages = f"{d.pages} pages" if d.pages is not None else "no pages"
            print(f"{d.doc_id}  “{d.title}”  {d.passages} passages, {pages}")
    return 0


def _question(text: str, what: str = "question"):
    """The question cleaned as every interface cleans it (cqvet_qa.inputs); empty is a user error."""
    try:
        return clean_question(text)
    except InvalidQuestion:
        raise UserError(f"the {what} is empty") from None


def cmd_search(args, settings: Settings) -> int:
    cleaned = _question(args.query, "query")
    if cleaned.note:
        print(f"cqvet-qa: note: {cleaned.note}", file=sys.stderr)
    args.query = cleaned.text
    hits = _assistant(args, settings).search(args.query, k=args.k, doc=args.doc)
    if args.json:
        _print_json({"query": args.query, "hits": [h.to_dict() for h in hits]})
        return 0
    for h in hits:
        print(f"[{h.rank}] score {h.score:.3f} · {h.section} · p.{h.page}")
        print(textwrap.indent(textwrap.fill(h.text, width=60), "    "))
    return 0


def cmd_eval(args, settings: Settings) -> int:
    from .evaluation import read_questions, run_eval

    try:
        items = read_questions(args.qa)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    result = run_eval(_assistant(args, settings), items, k=args.k)
    if args.json:
        _print_json(result)
        return 0
    _print_metrics_table(result)
    return 0


def _print_metrics_table(result: dict) -> None:
    columns = ["n", "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy"]
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
    _question(args.question)  # an empty one is refused before the model loads; ask() cleans it and notes a cut
    answer = _assistant(args, settings).ask(args.question, k=args.k, doc=args.doc)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    if answer.note:
        print(f"({answer.note})")
    print(answer.text)
    for n, c in enumerate(answer.citations, start=1):
        print(f"  [{n}] {c.section} · p.{c.page}\n      “{c.quote}”")
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .ui.server import launch

    launch(_assistant(args, settings), host=args.host, port=args.port, allow_upload=args.allow_upload)
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
}

if __name__ == "__main__":
    sys.exit(main())
