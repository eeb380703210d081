"""The Python API: load (building the index if needed) and search the report."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

from collections.abc import Iterator

import numpy as np

from .answer.answerers import choose_answerer
from .answer.pipeline import Reading
from .answer.types import Answer
from .corpus.loader import add_files, list_documents
from .embedding.model import Embedder, resolve_model
from .inputs import clean_history, clean_question
from .index_store import (
    CURRENT,
    BuildReport,
    DocumentInfo,
    IndexUnusable,
    LoadedIndex,
    Manifest,
    build_index,
    current_manifest,
    load_index,
    stale_reason,
    up_to_date_report,
)
from .passages import SplitSettings
from .retrieval.base import Hit, Retriever, SearchStore
from .retrieval.registry import retriever_for, search_store
from .sentences import SentenceVectors
from .settings import Settings

log = logging.getLogger("cqvet_qa")

MAX_K = 100


class Assistant:
    """The report, searchable and answerable: `Assistant.load()`, then `search`, `ask` or `stream`.

    Part of the public API (`from cqvet_qa import Assistant`). `search` gives `Hit`s, `ask` an
    `Answer`; `documents()` lists what is indexed. Loading takes the model (a few seconds, once).
    """

    def __init__(
        self, embedder: Embedder, searcher: Retriever, settings: Settings, sentences: SentenceVectors, build: Path | None = None
    ) -> None:
        self.embedder = embedder
        self.searcher = searcher
        self.settings = settings
        self.sentences = sentences  # the answerer's sentence vectors, made at build time
        self.corpus = settings.corpus
        self.index = settings.index
        self.build = build  # the build folder in use: another process's build swaps `current` away from it
        self._swap = threading.Lock()

    @classmethod
    def load(
        cls,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        model: str | None = None,
        rebuild: bool = True,
        progress: bool = False,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
    ) -> "Assistant":
        """Open the index, rebuilding it first when it is missing, damaged or stale.

        `settings`: Settings.from_env() unless given; `corpus`, `index` and `model` override it.
        `embedder`: a model already loaded (by another Assistant, or for a build), used instead
        of loading `model` again: one process can serve several corpora with one copy in memory.
        """
        settings = (settings or Settings.from_env()).with_overrides(corpus=corpus, index=index, model=model)
        list_documents(settings.corpus)  # a bad corpus folder is reported before the model loads
        retriever = retriever_for(settings)  # an unknown name is reported before the model loads
        store = search_store(settings)  # and an unreachable store
        embedder = embedder or Embedder(settings)
        loaded = open_index(settings.corpus, settings.index, embedder, rebuild, progress, settings.max_document_mb, store=store)
        return cls(embedder, retriever.from_index(loaded, settings), settings, loaded.sentences, loaded.path)

    def _follow_current(self) -> None:
        """Use the build `current` names now, if another process (a `cqvet-qa build`) swapped it.

        One readlink per request; the new build loads once, under a lock, and a build that cannot
        be loaded leaves the one in use (the next request tries again).
        """
        if self.build is None or (self.index / CURRENT).resolve() == self.build:
            return
        with self._swap:
            if (self.index / CURRENT).resolve() == self.build:
                return
            try:
                self._use(load_index(self.index))
            except IndexUnusable as exc:
                log.warning("The index at %s was rebuilt but cannot be loaded yet (%s); answering from the one in use", self.index, exc)
                return
            log.info("The index at %s was rebuilt by another process; answering from the new build", self.index)

    def _use(self, loaded: LoadedIndex) -> None:
        self.searcher = retriever_for(self.settings).from_index(loaded, self.settings)
        self.sentences, self.build = loaded.sentences, loaded.path

    def ask(
        self, question: str, history: list[tuple[str, str]] | None = None, k: int = 5, mode: str | None = None, doc: str | None = None
    ) -> Answer:
        """A short answer with the sentences it rests on; see `stream` for LLM answers as they arrive."""
        answer = None
        for answer in self.stream(question, history, k=k, mode=mode, doc=doc):
            pass
        return answer

    def stream(
        self, question: str, history: list[tuple[str, str]] | None = None, k: int = 5, mode: str | None = None, doc: str | None = None
    ) -> Iterator[Answer]:
        """Yield the answer as it grows; the last one is complete.

        mode None: the LLM when one is configured (Settings.llm), else extractive; "llm" when it is not
        set, or when the server fails, gives the extractive answer with a note.
        The question is cleaned first (cqvet_qa.inputs): InvalidQuestion when it is empty; one
        over MAX_QUESTION_CHARS is cut, and every answer's note says so.
        """
        cleaned = clean_question(question)
        answerer = choose_answerer(mode, self.settings)  # ValueError for an unknown mode, before any work
        self._follow_current()
        for answer in answerer.stream(self, cleaned.text, clean_history(history) or [], k, doc):
            if cleaned.note:
                answer = replace(answer, note=" · ".join(n for n in (cleaned.note, answer.note) if n))
            yield answer

    def search(self, query: str, k: int = 5, doc: str | None = None) -> list[Hit]:
        """Top k passages; `doc` (file name or title) keeps the search to one document."""
        query = clean_question(query).text  # InvalidQuestion when empty; see cqvet_qa.inputs
        k = max(1, min(int(k), MAX_K))
        self._follow_current()
        return self.searcher.search(query, lambda: self.query_vector(query), k, doc=doc)

    def query_vector(self, query: str) -> np.ndarray:
        """The vector a query is searched with: an English one's adds the vector of its Chinese terms.

        The embedding model matches English to the report's Chinese only loosely; its glossary Chinese,
        embedded as Chinese, meets the passages in their own language (1,155 English training questions:
        hit@1 0.738 -> 0.750, MRR 0.825 -> 0.835, hit@5 0.942 -> 0.946).
        """
        vector = self.embedder.encode_query(query)
        rendering = self.searcher.chinese_rendering(query)
        return vector + self.embedder.encode_query(rendering) if rendering else vector

    def add(self, files: list[Path], progress: bool = False) -> tuple[list[str], BuildReport]:
        """Copy documents into the corpus, index them with this model and answer from them from now on.

        For a running app (the chat's uploads): the model already in memory embeds the new
        passages, then the new index replaces the old one in a single step.
        """
        copied = add_files(files, self.corpus, self.settings.max_document_mb)
        split = SplitSettings(max_tokens=self.embedder.info.max_seq_length)
        report = build_index(self.corpus, self.index, self.embedder, split, progress,
                             max_document_mb=self.settings.max_document_mb, store=search_store(self.settings))
        with self._swap:
            self._use(load_index(self.index))
        return copied, report

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index in use (title, passages, pages; unreadable ones with the reason).

        Read from the build that answers, so that every name listed can be asked about.
        """
        self._follow_current()
        return Manifest.read(self.build / "manifest.json").infos() if self.build else current_manifest(self.index).infos()

    def query_terms(self, query: str) -> list[str]:
        """A query's search terms in the report's wording (an English one's with their Chinese)."""
        return self.searcher.query_terms(query)

    def reading(self) -> Reading:
        """What the extractive answer reads. Made per request: an upload swaps the index in place."""
        s = self.searcher
        return Reading(
            search=lambda question, k, doc: self.search(question, k=k, doc=doc),
            encode=self.embedder.encode_query,
            passages=s.passages,
            position=s.position,
            has=s.bm25.has,
            idf=s.bm25.idf,
            query_terms=s.query_terms,
            chinese_rendering=s.chinese_rendering,
            alternative_terms=s.alternative_terms,
            untranslated=s.translator.untranslated,
            sentences=self.sentences,
        )


def open_index(
    corpus_dir: Path, index_dir: Path, embedder: Embedder, rebuild: bool = True, progress: bool = False,
    max_document_mb: float | None = None,
    store: SearchStore | None = None,
) -> LoadedIndex:
    """Load the index, first building it when it (or the search store) is missing, damaged or stale (unless told not to)."""
    split = SplitSettings(max_tokens=embedder.info.max_seq_length)
    reason = stale_reason(index_dir, list_documents(corpus_dir), embedder.info.to_dict(), split, store)
    if reason is None:
        try:
            return load_index(index_dir)
        except IndexUnusable as exc:
            reason = str(exc)
    if not rebuild:
        raise IndexUnusable(f"the index at {index_dir} cannot be used: {reason} (run without --no-rebuild)")
    log.warning("Building the index at %s: %s", index_dir, reason)
    build_index(corpus_dir, index_dir, embedder, split, progress=progress, max_document_mb=max_document_mb, store=store)
    return load_index(index_dir)


def build_if_needed(settings: Settings, force: bool = False, progress: bool = False) -> BuildReport:
    """`cqvet-qa build`: bring the index up to date, re-reading only changed documents (all when forced)."""
    list_documents(settings.corpus)  # a bad corpus folder is reported before the model loads
    store = search_store(settings)
    if not force and (report := up_to_date_report(settings.corpus, settings.index, resolve_model(settings)[2], store)):
        return report
    embedder = Embedder(settings)
    split = SplitSettings(max_tokens=embedder.info.max_seq_length)
    return build_index(settings.corpus, settings.index, embedder, split, progress=progress, full=force,
                       max_document_mb=settings.max_document_mb, store=store)


def add_documents(files: list[str | Path], settings: Settings, progress: bool = False):
    """`cqvet-qa add`: copy readable documents into the corpus, then index them; (file names, report)."""
    copied = add_files([Path(f) for f in files], settings.corpus, settings.max_document_mb)
    return copied, build_if_needed(settings, progress=progress)


def indexed_documents(settings: Settings) -> tuple[list[DocumentInfo], bool]:
    """`cqvet-qa docs`: the documents in the index, and whether the corpus changed since it was built."""
    manifest = current_manifest(settings.index)
    return manifest.infos(), manifest.documents != {s.doc_id: s.sha256 for s in list_documents(settings.corpus)}
