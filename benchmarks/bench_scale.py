"""Scale run: the product's hybrid search (BM25 + FAISS) over 1k / 10k / 100k passages.

The passages are the corpus passages (from the index the cqvet-qa pipeline just
built) plus generated fillers. A filler is made of sentences of the report drawn
at random (with replacement, until it is as long as a real passage of the
report picked at random) and joined in random order; sentences that contain a
gold evidence span of the question file are left out, so fillers are
distractors and never answers. Fillers are not embedded with the model (100k
passages would take hours on 2 cores): a filler's vector is the normalised mean
of the real vectors of the passages its sentences came from, plus Gaussian
noise with the real vectors' covariance (a random Gaussian mix of 8 real
vectors minus their mean), normalised again — so fillers lie near the real
vectors and spread like them. (Noise drawn independently per dimension is the
worst case for approximate search: HNSW recall falls by about a third; pass
noise="diagonal" to make_fillers to see it.) A filler's BM25 tokens are the product
tokenizer's tokens of its sentences (each sentence cut once), so BM25 sees the
report's own vocabulary and term statistics.

Each size runs in a child process of its own (peak RSS per size) and measures,
for both kinds of the product's DenseIndex, flat (faiss.IndexFlatIP) and HNSW
(faiss.IndexHNSWFlat, inner product; the product switches at HNSW_THRESHOLD): build time, dense-only query time,
retrieval time given the query vector, end-to-end `Assistant.search` time with
the query cache cleared, hit@k on the question file, and the HNSW's recall of
the flat top-100 (the hybrid's candidate depth) and of the flat top-10 within
its top-100. With `milvus` (milvus-lite installed; `--no-milvus` turns it off) the same passages
then go into Milvus Lite, measured by bench_milvus.py side by side.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import numpy as np

from bench_util import clear_query_cache, current_rss_mb, hits_at, ms, p50, p95, peak_rss_mb



def _sentences(passages, evidence: list[str]):
    """(sentence, passage id) pairs of the real passages, minus those that state a gold answer."""
    from cqvet_qa.evaluation import squash
    from cqvet_qa.sentences import SENTENCE

    spans = [squash(e) for e in evidence if e.strip()]
    seen: set[str] = set()
    pool = []
    for pid, p in enumerate(passages):
        for m in SENTENCE.finditer(p.text):
            s = m.group(0).strip()
            if len(s) < 6 or s in seen:
                continue
            seen.add(s)
            flat = squash(s)
            if any(span in flat for span in spans):
                continue
            pool.append((s, pid))
    return pool


def make_fillers(passages, vectors: np.ndarray, tokenizer, count: int, evidence: list[str], seed: int = 0,
                 noise: str = "covariance"):
    """`count` filler (text, tokens, vector) triples; see the module docstring."""
    rng = np.random.default_rng(seed)
    pool = _sentences(passages, evidence)
    texts = [s for s, _ in pool]
    owners = np.array([pid for _, pid in pool])
    lengths = [len(s) for s in texts]
    tokens = [tokenizer(s) for s in texts]
    target = rng.choice(np.array([len(p.text) for p in passages]), size=count)
    spread = vectors.std(axis=0)

    out_texts, out_tokens, picks = [], [], []
    draws = rng.integers(0, len(texts), size=count * 12).tolist()
    cursor = 0
    for j in range(count):
        picked, total = [], 0
        while total < target[j] and len(picked) < 12:
            if cursor >= len(draws):
                draws, cursor = rng.integers(0, len(texts), size=count * 12).tolist(), 0
            i = draws[cursor]
            cursor += 1
            picked.append(i)
            total += lengths[i]
        picks.append(picked)
        out_texts.append("".join([texts[i] for i in picked]))
        out_tokens.append([t for i in picked for t in tokens[i]])
    out_vectors = np.empty((count, vectors.shape[1]), dtype=np.float32)
    for lo in range(0, count, 8192):  # base = mean of the sources' vectors, in chunks to bound memory
        chunk = picks[lo : lo + 8192]
        sizes = np.array([len(p) for p in chunk])
        flat = owners[np.fromiter((i for p in chunk for i in p), dtype=np.int64, count=int(sizes.sum()))]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        base = np.add.reduceat(vectors[flat], starts, axis=0)
        out_vectors[lo : lo + len(chunk)] = base / np.linalg.norm(base, axis=1, keepdims=True)
    if noise == "diagonal":  # isotropic-like: every dimension independent (the worst case for ANN)
        out_vectors += rng.standard_normal(out_vectors.shape).astype(np.float32) * spread
    else:  # Gaussian with the real vectors' covariance: random mixes of real residuals
        residuals = vectors - vectors.mean(axis=0)
        for lo in range(0, count, 8192):
            hi = min(count, lo + 8192)
            mix = rng.integers(0, len(vectors), size=(hi - lo, 8))
            weights = rng.standard_normal((hi - lo, 8)).astype(np.float32) / np.sqrt(8)
            out_vectors[lo:hi] += np.einsum("cm,cmd->cd", weights, residuals[mix])
    out_vectors /= np.linalg.norm(out_vectors, axis=1, keepdims=True)
    return out_texts, out_tokens, out_vectors, len(pool)


def run_scale(
    size: int,
    corpus: Path,
    index_dir: Path,
    questions: list[dict],
    repeat: int,
    model: str | None,
    threshold: int,
    seed: int = 0,
    milvus: bool = False,
    **_,
) -> dict:
    import bm25s
    import faiss

    from cqvet_qa.assistant import Assistant
    from cqvet_qa.embedding.model import Embedder
    from cqvet_qa.evaluation import first_hit_rank
    from cqvet_qa.index_store import load_index
    from cqvet_qa.language import detect_language
    from cqvet_qa.passages import Passage
    from cqvet_qa.retrieval import dense as dense_module
    from cqvet_qa.retrieval.bm25 import BM25Index
    from cqvet_qa.retrieval.dense import DenseIndex
    from cqvet_qa.retrieval.hybrid import WEIGHTS, HybridRetriever
    from cqvet_qa.sentences import SentenceVectors
    from cqvet_qa.settings import Settings

    settings = Settings.from_env(corpus=corpus, index=index_dir, model=model)
    embedder = Embedder(settings)
    loaded = load_index(index_dir)
    real = loaded.passages
    tokenizer = loaded.bm25.tokenizer
    real_vectors = loaded.dense.vectors()
    size = max(size, len(real))
    n_fill = size - len(real)
    evidence = [e for item in questions for e in item.get("evidence", [])]

    started = time.perf_counter()
    f_texts, f_tokens, f_vectors, pool = make_fillers(real, real_vectors, tokenizer, n_fill, evidence, seed)
    filler_s = time.perf_counter() - started
    passages = list(real) + [
        Passage(doc="filler", doc_id=f"filler-{j}", section="filler", page=0, start=0, end=len(t), text=t,
                context="", kind="prose", chunk_id=f"filler-{j}")
        for j, t in enumerate(f_texts)
    ]
    vectors = np.vstack([real_vectors, f_vectors]).astype(np.float32)
    del f_vectors

    started = time.perf_counter()
    corpus_tokens = [tokenizer(p.index_text) or [""] for p in real] + [t or [""] for t in f_tokens]
    del f_tokens
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(corpus_tokens, show_progress=False)
    bm25 = BM25Index(retriever, tokenizer)
    bm25_build_s = time.perf_counter() - started
    if not milvus:  # else kept for Milvus's sparse vectors (bench_milvus.py)
        del corpus_tokens
    gc.collect()
    bm25_mb = sum(a.nbytes for a in retriever.scores.values() if isinstance(a, np.ndarray)) / 2**20

    qs = [item["question"] for item in questions]
    qvecs = {q: embedder.encode_query(q) for q in qs}
    chosen = "hnsw" if size >= threshold else "flat"
    order = [chosen, "flat" if chosen == "hnsw" else "hnsw"]
    variants: dict[str, dict] = {}
    dense_ids: dict[str, list[np.ndarray]] = {}
    for kind in order:
        gc.collect()
        rss_before = current_rss_mb()
        started = time.perf_counter()
        dense = DenseIndex.build(vectors, approximate=kind == "hnsw")
        build_s = time.perf_counter() - started
        index_mb = faiss.serialize_index(dense.index).nbytes / 2**20
        searcher = HybridRetriever(passages, bm25, dense, cache=settings.cache)
        assistant = Assistant(embedder, searcher, settings, SentenceVectors([], np.empty((0, vectors.shape[1]))))  # search only

        ranks = []
        for item in questions:  # quality pass = warm-up
            hits = assistant.search(item["question"], k=10)
            if item.get("evidence"):
                ranks.append(first_hit_rank([h.text for h in hits], item["evidence"]))
        dense_ids[kind] = [dense.search(qvecs[q], 100)[1] for q in qs]

        dense_t, retrieval_t, e2e_t = [], [], []
        for _ in range(repeat):
            for q in qs:
                t0 = time.perf_counter()
                dense.search(qvecs[q], 100)
                t1 = time.perf_counter()
                searcher.rank(qvecs[q], q, 10, WEIGHTS[detect_language(q)])
                t2 = time.perf_counter()
                dense_t.append(ms(t1 - t0))
                retrieval_t.append(ms(t2 - t1))
                if kind == chosen:  # end to end only for the index this size would use (encoding dominates)
                    clear_query_cache()
                    t3 = time.perf_counter()
                    assistant.search(q, k=10)
                    e2e_t.append(ms(time.perf_counter() - t3))
        variants[kind] = {
            "build_s": round(build_s, 2),
            "index_mb": round(index_mb, 1),
            "rss_added_mb": round((current_rss_mb() or 0) - (rss_before or 0), 1),
            "rss_mb": current_rss_mb(),
            "dense_p50_ms": p50(dense_t),
            "retrieval_p50_ms": p50(retrieval_t),
            "search_p50_ms": p50(e2e_t),
            "search_p95_ms": p95(e2e_t),
            **hits_at(ranks),
        }
        del assistant, searcher, dense
        gc.collect()

    milvus_side = None
    if milvus:
        from bench_milvus import run_milvus

        milvus_side = run_milvus(passages, vectors, corpus_tokens, bm25, questions, qvecs, embedder, settings, repeat)
    pairs = list(zip(dense_ids["hnsw"], dense_ids["flat"]))
    recall = [len(np.intersect1d(h, f)) / max(1, len(f)) for h, f in pairs]
    recall10 = [len(np.intersect1d(h, f[:10])) / max(1, len(f[:10])) for h, f in pairs]
    # How close fillers come to questions, next to real passages (fillers should compete, not vanish).
    q_matrix = np.vstack([qvecs[q] for q in qs])
    top_real = (q_matrix @ real_vectors.T).max(axis=1)
    top_fill = (q_matrix @ vectors[len(real):].T).max(axis=1) if n_fill else np.zeros(len(qs))
    return {
        "passages": size,
        "real_passages": len(real),
        "fillers": n_fill,
        "sentence_pool": pool,
        "filler_s": round(filler_s, 2),
        "bm25_build_s": round(bm25_build_s, 2),
        "bm25_mb": round(bm25_mb, 1),
        "vectors_mb": round(vectors.nbytes / 2**20, 1),
        "chosen": chosen,
        "hnsw": {"M": dense_module.HNSW_M, "efConstruction": dense_module.HNSW_EF_CONSTRUCTION,
                 "efSearch": dense_module.HNSW_EF_SEARCH},
        "flat": variants["flat"],
        "hnsw_index": variants["hnsw"],
        "hnsw_recall@100": round(float(np.mean(recall)), 4),
        "hnsw_recall_top10_in_100": round(float(np.mean(recall10)), 4),
        "query_top_cos_real": round(float(np.median(top_real)), 4),
        "query_top_cos_filler": round(float(np.median(top_fill)), 4) if n_fill else None,
        "search_p50_ms": variants[chosen]["search_p50_ms"],
        "search_p95_ms": variants[chosen]["search_p95_ms"],
        "peak_rss_mb": peak_rss_mb(),
        "milvus": milvus_side,
    }
