"""The three pipelines under test, each run inside its own child process.

- naive: RecursiveCharacterTextSplitter(500, 50) over the raw text file, the same
  embedding model run as a LangChain user runs it (sentence-transformers, as
  HuggingFaceEmbeddings does; passage prompt / query prompt), faiss.IndexFlatIP. Its cold
  query path (bench_cold.py) is the same.
- bm25: bm25s over `jieba.lcut` tokens of the same 500/50 chunks (no stopwords,
  no user dictionary; only whitespace tokens dropped).
- cqvet-qa: the product — `build_index` into a temporary folder, then
  `Assistant.load` on it, `search` and `ask`.

Every runner returns the same record: quality on the question file, build time,
latencies (warm, pooled over `repeat` passes after a warm-up pass, the query
vector cache cleared before every timed call), cached-query latencies as an
extra, and the child's peak RSS.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench_util import clear_query_cache, current_rss_mb, ms, p50, p95, peak_rss_mb, raw_texts

K = 10  # depth searched for hit@1/5/10 and MRR; also the k of timed searches
NAIVE_CHUNK, NAIVE_OVERLAP = 500, 50


def _quality_and_latency(questions, search, ask, repeat: int, uses_query_cache: bool) -> dict:
    """search(q, k) -> passage texts; ask(q) -> (text, answered) or None for the peers."""
    from cqvet_qa.evaluation import answer_correct, first_hit_rank, summarize

    rows = []
    for item in questions:  # the quality pass doubles as the warm-up pass
        texts = search(item["question"], K)
        row = {
            "id": item.get("id"),
            "lang": item.get("lang", "?"),
            "type": item.get("type", "?"),
            "evidence": bool(item.get("evidence")),
            "rank": first_hit_rank(texts, item.get("evidence", [])),
        }
        if ask is not None:
            text, answered = ask(item["question"])
            row["correct"], row["answered"] = answer_correct(item, text, answered), answered
        rows.append(row)
    summary = summarize(rows)["overall"]

    def time_calls(fn, clear: bool) -> list[float]:
        samples = []
        if not clear:  # fill the cache first: the uncached passes leave only their last query in it
            for item in questions:
                fn(item["question"])
        for _ in range(repeat):
            for item in questions:
                if clear:
                    clear_query_cache()
                started = time.perf_counter()
                fn(item["question"])
                samples.append(ms(time.perf_counter() - started))
        return samples

    search_uncached = time_calls(lambda q: search(q, K), clear=True)
    extra = {}
    if uses_query_cache:  # every query is cached by now: what a repeated question costs
        cached = time_calls(lambda q: search(q, K), clear=False)
        extra["search_cached_p50_ms"] = p50(cached)
        extra["search_cached_p95_ms"] = p95(cached)
    ask_uncached = []
    if ask is not None:
        ask_uncached = time_calls(ask, clear=True)
        cached = time_calls(ask, clear=False)
        extra["ask_cached_p50_ms"] = p50(cached)
        extra["ask_cached_p95_ms"] = p95(cached)
    metrics = {
        "hit@1": summary["hit@1"],
        "hit@5": summary["hit@5"],
        "hit@10": summary["hit@10"],
        "mrr": summary["mrr"],
        "answer_accuracy": summary.get("answer_accuracy") if ask is not None else None,
        "build_s": None,
        "search_p50_ms": p50(search_uncached),
        "search_p95_ms": p95(search_uncached),
        "ask_p50_ms": p50(ask_uncached) if ask is not None else None,
        "ask_p95_ms": p95(ask_uncached) if ask is not None else None,
        "cold_start_s": None,
        "peak_rss_mb": None,
    }
    extra["timed_calls"] = len(search_uncached)
    extra["misses@5"] = [r["id"] for r in rows if r["evidence"] and (r["rank"] is None or r["rank"] > 5)]
    extra["ranks"] = {r["id"]: r["rank"] for r in rows}
    return {"metrics": metrics, "extra": extra}


def _naive_chunks(corpus: Path) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK, chunk_overlap=NAIVE_OVERLAP)
    return [chunk for text in raw_texts(corpus) for chunk in splitter.split_text(text)]


def run_naive(corpus: Path, questions: list[dict], repeat: int, model: str | None, **_) -> dict:
    import faiss
    from sentence_transformers import SentenceTransformer

    from cqvet_qa.embedding.model import resolve_model
    from cqvet_qa.settings import Settings

    path = resolve_model(Settings.from_env(model=model))[1]
    encoder = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    started = time.perf_counter()
    chunks = _naive_chunks(corpus)
    vectors = encoder.encode([f"passage: {c}" for c in chunks], normalize_embeddings=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    build_s = time.perf_counter() - started

    def search(query: str, k: int) -> list[str]:
        vector = encoder.encode([f"query: {query}"], normalize_embeddings=True)
        _, ids = index.search(vector, min(k, index.ntotal))
        return [chunks[i] for i in ids[0] if i >= 0]

    result = _quality_and_latency(questions, search, None, repeat, uses_query_cache=False)
    result["metrics"]["build_s"] = round(build_s, 2)
    result["extra"]["passages"] = len(chunks)
    result["extra"]["serve_rss_mb"] = current_rss_mb()
    return result


def run_bm25(corpus: Path, questions: list[dict], repeat: int, **_) -> dict:
    import bm25s
    import jieba

    started = time.perf_counter()
    jieba.initialize()  # part of building: the dictionary load
    chunks = _naive_chunks(corpus)

    def cut(text: str) -> list[str]:
        return [t for t in jieba.lcut(text) if t.strip()]

    retriever = bm25s.BM25()
    retriever.index([cut(c) or [""] for c in chunks], show_progress=False)
    vocab = retriever.vocab_dict
    build_s = time.perf_counter() - started

    def search(query: str, k: int) -> list[str]:
        tokens = [t for t in cut(query) if t in vocab]
        if not tokens:
            return []
        scores = retriever.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [chunks[i] for i in top if scores[i] > 0]

    result = _quality_and_latency(questions, search, None, repeat, uses_query_cache=False)
    result["metrics"]["build_s"] = round(build_s, 2)
    result["extra"]["passages"] = len(chunks)
    result["extra"]["serve_rss_mb"] = current_rss_mb()
    return result


def run_product(corpus: Path, questions: list[dict], repeat: int, model: str | None, index_dir: Path, **_) -> dict:
    import torch

    from cqvet_qa.assistant import Assistant
    from cqvet_qa.embedding.model import Embedder
    from cqvet_qa.index_store import build_index
    from cqvet_qa.passages import SplitSettings
    from cqvet_qa.settings import Settings

    embedder = Embedder(Settings.from_env(model=model))
    split = SplitSettings(max_tokens=embedder.info.max_seq_length)
    report = build_index(corpus, index_dir, embedder, split)
    build_rss = current_rss_mb()

    started = time.perf_counter()  # the index is read as a fresh process reads it; the model is kept
    assistant = Assistant.load(corpus, index_dir, rebuild=False, embedder=embedder)
    load_s = time.perf_counter() - started

    def search(query: str, k: int) -> list[str]:
        return [h.text for h in assistant.search(query, k=k)]

    def ask(query: str) -> tuple[str, bool]:
        answer = assistant.ask(query)
        return answer.text, answer.answered

    result = _quality_and_latency(questions, search, ask, repeat, uses_query_cache=True)
    result["extra"]["dense_only_p50_ms"] = _dense_only_p50(assistant, questions, repeat)
    result["metrics"]["build_s"] = round(report.seconds, 2)
    result["extra"].update(
        passages=report.passages,
        load_s=round(load_s, 2),
        build_rss_mb=build_rss,
        serve_rss_mb=current_rss_mb(),
        torch_threads=torch.get_num_threads(),
        model=assistant.embedder.info.name,
    )
    return result


def _dense_only_p50(assistant, questions: list[dict], repeat: int) -> float:
    """A dense-only lookup on the product's own encoder and index (encode, FAISS top 10): what the
    hybrid search adds to the least any embedding search costs here."""
    dense = assistant.searcher.dense
    samples = []
    for _ in range(repeat):
        for item in questions:
            clear_query_cache()
            started = time.perf_counter()
            dense.search(assistant.embedder.encode_query(item["question"]), K)
            samples.append(ms(time.perf_counter() - started))
    return p50(samples)


RUNNERS = {"naive": run_naive, "bm25": run_bm25, "cqvet-qa": run_product}


def run_child(name: str, **kwargs) -> dict:
    result = RUNNERS[name](**kwargs)
    result["metrics"]["peak_rss_mb"] = peak_rss_mb()
    return result


COLD_START_CODE = """
import json, sys, time
t0 = time.perf_counter()
from cqvet_qa.assistant import Assistant
t1 = time.perf_counter()
a = Assistant.load(sys.argv[1], sys.argv[2], sys.argv[3] or None, rebuild=False)
t2 = time.perf_counter()
answer = a.ask(sys.argv[4])
t3 = time.perf_counter()
import resource
print(json.dumps({"answered_at": time.time(), "import_s": t1 - t0, "load_s": t2 - t1, "first_ask_s": t3 - t2, "answered": answer.answered,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
