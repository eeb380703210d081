"""Scale run, Milvus side: the passages and vectors of one scale size put into Milvus Lite (issue 18).

The same passages, vectors and BM25 tokens the FAISS side searched (bench_scale.py) go into a
fresh Milvus Lite collection through the product's own `MilvusStore.sync` (the collection a
`cqvet-qa build --store milvus:…` makes), and the product's `MilvusRetriever` searches it:
insert throughput, retrieval given the query vector and `Assistant.search` end to end (query
cache cleared), hit@k of the real questions, the Milvus server process's peak RSS (Lite runs
Milvus as a child process) and the collection's size on disk. Run when milvus-lite is installed.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_util import clear_query_cache, hits_at, ms, p50, p95


def run_milvus(passages, vectors: np.ndarray, tokens: list[list[str]], bm25, questions: list[dict], qvecs: dict,
               embedder, settings, repeat: int) -> dict:
    from cqvet_qa.assistant import Assistant
    from cqvet_qa.evaluation import first_hit_rank
    from cqvet_qa.retrieval.milvus import MilvusRetriever
    from cqvet_qa.retrieval.milvus_store import MilvusStore
    from cqvet_qa.sentences import SentenceVectors
    from cqvet_qa.settings import StoreSettings

    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as folder:
        store = MilvusStore(StoreSettings(str(Path(folder) / "milvus.db")))
        tokens_of = dict(zip((p.index_text for p in passages), tokens))
        started = time.perf_counter()
        store.sync(passages, vectors, tokens_of.__getitem__, None)
        insert_s = time.perf_counter() - started
        del tokens_of
        searcher = MilvusRetriever(passages, bm25, store, cache=settings.cache)
        assistant = Assistant(embedder, searcher, settings, SentenceVectors([], np.empty((0, vectors.shape[1]))))

        ranks = []
        for item in questions:  # quality pass = warm-up (loads the sealed segments and their indexes)
            hits = searcher.search(item["question"], lambda: qvecs[item["question"]], 10)
            if item.get("evidence"):
                ranks.append(first_hit_rank([h.text for h in hits], item["evidence"]))
        retrieval_t, e2e_t = [], []
        for _ in range(repeat):
            for item in questions:
                q = item["question"]
                t0 = time.perf_counter()
                searcher.search(q, lambda: qvecs[q], 10)
                retrieval_t.append(ms(time.perf_counter() - t0))
                clear_query_cache()
                t1 = time.perf_counter()
                assistant.search(q, k=10)
                e2e_t.append(ms(time.perf_counter() - t1))
        return {
            "insert_s": round(insert_s, 1),
            "insert_per_s": round(len(passages) / insert_s),
            "retrieval_p50_ms": p50(retrieval_t),
            "retrieval_p95_ms": p95(retrieval_t),
            "search_p50_ms": p50(e2e_t),
            "search_p95_ms": p95(e2e_t),
            **hits_at(ranks),
            "server_peak_rss_mb": _server_peak_rss_mb(),
            "disk_mb": round(sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()) / 2**20, 1),
        }


def _server_peak_rss_mb() -> float | None:
    """Peak RSS (VmHWM) of the Milvus Lite server, a child of this process."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and fields.get("Name", "").strip() == "milvus":
            return round(int(fields["VmHWM"].split()[0]) / 1024, 1)
    return None


def milvus_table(scale: list[dict]) -> str:
    """The Milvus side of the scale run beside the FAISS index each size uses."""
    rows = [["passages", "insert s (rows/s)", "retrieval p50/p95 ms", "search p50/p95 ms", "FAISS search p50/p95 ms",
             "hit@5 Milvus / FAISS", "Milvus RSS MB", "bench RSS MB", "disk MB"]]
    for s in scale:
        m = s.get("milvus")
        if not m:
            continue
        faiss = s["hnsw_index"] if s["chosen"] == "hnsw" else s["flat"]
        rows.append([
            f"{s['passages']:,}" + (" (corpus)" if s["fillers"] == 0 else ""),
            f"{m['insert_s']:.1f} ({m['insert_per_s']:,})",
            f"{m['retrieval_p50_ms']:.1f} / {m['retrieval_p95_ms']:.1f}",
            f"{m['search_p50_ms']:.1f} / {m['search_p95_ms']:.1f}",
            f"{s['search_p50_ms']:.1f} / {s['search_p95_ms']:.1f} ({s['chosen']})",
            f"{m['hit@5']:.3f} / {faiss['hit@5']:.3f}",
            f"{m['server_peak_rss_mb']:.0f}" if m["server_peak_rss_mb"] else "-",
            f"{s['peak_rss_mb']:.0f}",
            f"{m['disk_mb']:.0f}",
        ])
    if len(rows) == 1:
        return ""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    head = ("milvus: the same passages in Milvus Lite 2.5.1 (FLAT dense, sparse inverted BM25, the two top-100 lists fused "
            "by z-scores) through MilvusStore.sync and MilvusRetriever; retrieval = MilvusRetriever.search given the "
            "query vector; search = Assistant.search, query cache cleared; Milvus RSS = the Lite server process's peak; "
            "bench RSS = this size's benchmark process (FAISS flat + HNSW + bm25s + the rows sent)")
    return "\n".join([head, fmt(rows[0]), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows[1:]])
