"""Benchmark cqvet-qa against two naive peers, on this machine, in one run.

    python benchmarks/run.py --qa QUESTIONS.jsonl [--corpus corpus/] [--json]
                             [--no-scale] [--repeat 3] [--cold-runs 3]

Pipelines (each built and measured in a child process of its own, so that one
pipeline's memory and caches do not pollute another's):
  naive     RecursiveCharacterTextSplitter(500, 50) over the raw text, the same embedding
            model run as LangChain runs it (sentence-transformers; passage/query prompts),
            faiss.IndexFlatIP; the product's row dense_only_p50_ms is a dense-only lookup
            on the product's own encoder and index, for what hybrid search adds
  bm25      bm25s over jieba.lcut tokens of the same 500/50 chunks
  cqvet-qa  the product: build_index into a temporary folder, Assistant.load on it

Quality: hit@1/5/10 and MRR over the top 10 (cqvet_qa.evaluation), answer accuracy
for the product. Latency: warm — the quality pass over every question is the
warm-up — then every question `--repeat` times; p50/p95 pooled over those calls.
The query-vector LRU cache is cleared before every timed search and ask, so
each call pays for encoding its query; cached-query figures are reported beside.
Cold start: a fresh interpreter that runs Assistant.load() + one ask on the
already built index: wall time from launching it to its answer (median of
--cold-runs; the interpreter's exit is reported beside, not counted); the OS
file cache is warm.
Peak RSS: ru_maxrss of the pipeline's child (build + load + all questions).
Command line and server (bench_cold.py): `cqvet-qa ask` and `search` launched cold, to the first
printed line (median of --cold-runs), beside the naive pipeline's query path launched cold; `cqvet-qa
serve` from launch to its first answer over HTTP, and the serving process's peak RSS.

Scale (on by default): the product's hybrid search over 1k/10k/100k passages
(corpus passages + generated fillers, see bench_scale.py), flat vs HNSW, and beside them
the Milvus store on Milvus Lite (bench_milvus.py; `--no-milvus` leaves it out).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_milvus import milvus_table  # noqa: E402
from bench_util import loadavg, machine_info  # noqa: E402
from cqvet_qa.retrieval.dense import HNSW_THRESHOLD  # noqa: E402

PIPELINES = ("naive", "bm25", "cqvet-qa")
LAUNCH_METRICS = ("cli_ask_cold_s", "cli_search_cold_s", "serve_first_answer_s", "serve_peak_rss_mb")
METRICS = (
    "hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy", "build_s", "search_p50_ms", "search_p95_ms",
    "ask_p50_ms", "ask_p95_ms", "cold_start_s", "peak_rss_mb",
    *LAUNCH_METRICS,
)
# The figure goes up when things get better (ratios > 1 are good) for these; down for the rest.
HIGHER_IS_BETTER = {"hit@1", "hit@5", "hit@10", "mrr", "answer_accuracy"}
DEFAULT_SIZES = (1_000, 10_000, 100_000)
TARGETS = {  # (metric, comparison, limit, label): issue 14's acceptance
    "ask_p50_ms": ("<=", 30, "≤ 30 ms"),
    "ask_p95_ms": ("<=", 150, "≤ 150 ms"),
    "search_p50_ms": ("<=", 30, "≤ 30 ms"),
    "build_s": ("<=", 30, "≤ 30 s"),
    "cold_start_s": ("<=", 10, "≤ 10 s"),
    "peak_rss_mb": ("<=", 1200, "≤ 1.2 GB"),
    "cli_ask_cold_s": ("<=", 1.5, "≤ 1.5 s"),
    "cli_search_cold_s": ("<=", 1.5, "≤ 1.5 s"),
    "serve_first_answer_s": ("<=", 4, "≤ 4 s"),
    "serve_peak_rss_mb": ("<=", 500, "≤ 500 MB"),
}
SCALE_TARGET_MS = 100
HIT5_MARGIN = 0.10


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ children


def child_main(args) -> None:
    """Run one pipeline or one scale size in this process and write its record to --out."""
    from cqvet_qa.evaluation import read_questions

    questions = read_questions(Path(args.qa))
    common = dict(corpus=Path(args.corpus), questions=questions, repeat=args.repeat, model=args.model,
                  index_dir=Path(args.index_dir))
    if args.child == "scale":
        from bench_scale import run_scale

        result = run_scale(size=args.size, threshold=args.hnsw_threshold, milvus=args.milvus, **common)
    else:
        from bench_pipelines import run_child

        result = run_child(args.child, **common)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


def spawn(args, workdir: Path, child: str, index_dir: Path, size: int = 0, timeout: float = 900) -> dict:
    out = workdir / f"{child}-{size}.json"
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child", child, "--out", str(out),
        "--corpus", str(args.corpus), "--qa", str(args.qa), "--repeat", str(args.repeat),
        "--index-dir", str(index_dir), "--size", str(size), "--hnsw-threshold", str(args.hnsw_threshold),
        "--milvus" if args.milvus else "--no-milvus",
    ]
    if args.model:
        cmd += ["--model", args.model]
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.exists():
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"benchmark child '{child}' failed (exit {proc.returncode})")
    log(f"{child}{f' {size:,}' if size else ''} done in {time.perf_counter() - started:.1f} s")
    return json.loads(out.read_text(encoding="utf-8"))


def cold_start(args, index_dir: Path, question: str) -> dict:
    from bench_pipelines import COLD_START_CODE

    runs = []
    for _ in range(args.cold_runs):
        launched = time.time()  # wall clock: the child stamps the moment its answer exists
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", COLD_START_CODE, str(args.corpus), str(index_dir), args.model or "", question],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            raise RuntimeError("cold-start child failed")
        parts = json.loads(proc.stdout.strip().splitlines()[-1])
        first_answer = parts.pop("answered_at") - launched
        runs.append({"first_answer_s": round(first_answer, 3), "wall_with_exit_s": round(wall, 3),
                     **{k: round(v, 3) if isinstance(v, float) else v for k, v in parts.items()}})
    return {"median_s": round(statistics.median(r["first_answer_s"] for r in runs), 3), "runs": runs}


def launches(args, index_dir: Path, question: str, pipelines: dict, details: dict) -> None:
    """The command line and the server launched cold (bench_cold.py), beside the naive query path."""
    from bench_cold import cli_cold, naive_cold, serve_cold

    for metrics in pipelines.values():  # figures that do not apply to a pipeline stay null
        metrics.update({key: None for key in LAUNCH_METRICS})
    log(f"cold command lines ×{args.cold_runs} …")
    for command in ("ask", "search"):
        cold = cli_cold(command, question, Path(args.corpus), index_dir, args.model, args.cold_runs)
        pipelines["cqvet-qa"][f"cli_{command}_cold_s"] = cold["median_s"]
        details["cqvet-qa"][f"cli_{command}_cold"] = cold
    if "naive" in pipelines:
        cold = naive_cold(question, args.model, args.cold_runs)
        pipelines["naive"]["cli_search_cold_s"] = cold["median_s"]
        details["naive"]["cli_search_cold"] = cold
    log("serve: launch to first answer …")
    served = serve_cold(question, Path(args.corpus), index_dir, args.model)
    pipelines["cqvet-qa"]["serve_first_answer_s"] = served["first_answer_s"]
    pipelines["cqvet-qa"]["serve_peak_rss_mb"] = served["peak_rss_mb"]


# ------------------------------------------------------------------ the run


def run(args) -> dict:
    from cqvet_qa.evaluation import read_questions

    questions = read_questions(Path(args.qa))
    if not questions:
        raise SystemExit(f"no questions in {args.qa}")
    machine = machine_info()
    if machine["loadavg_start"] and machine["loadavg_start"][0] > 0.5 * (machine["cores"] or 1):
        log(f"warning: load average {machine['loadavg_start']} — other work on this machine may inflate latencies")
    workdir = Path(tempfile.mkdtemp(prefix="cqvet-bench-"))
    index_dir = workdir / "index"
    started = time.perf_counter()
    try:
        pipelines, details = {}, {}
        for name in args.pipelines:
            log(f"running {name} …")
            record = spawn(args, workdir, name, index_dir, timeout=args.child_timeout)
            pipelines[name] = record["metrics"]
            details[name] = record["extra"]
        if "cqvet-qa" in pipelines:
            machine["torch_threads"] = details["cqvet-qa"].get("torch_threads")
            log(f"cold start ×{args.cold_runs} …")
            cold = cold_start(args, index_dir, questions[0]["question"])
            pipelines["cqvet-qa"]["cold_start_s"] = cold["median_s"]
            details["cqvet-qa"]["cold_start"] = cold
            launches(args, index_dir, questions[0]["question"], pipelines, details)
        scale = []
        if args.scale and "cqvet-qa" in pipelines:
            for size in [0, *args.sizes]:  # 0 = the corpus passages alone: flat vs HNSW must agree there
                log(f"scale {size or 'corpus'} …")
                scale.append(spawn(args, workdir, "scale", index_dir, size=size, timeout=args.child_timeout))
    finally:
        if args.keep_tmp:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    machine["loadavg_end"] = loadavg()
    machine["total_s"] = round(time.perf_counter() - started, 1)
    result = {
        "machine": machine,
        "pipelines": pipelines,
        "scale": scale,
        "ratios_to_naive": ratios(pipelines),
        "targets": targets(pipelines, scale),
        "hnsw_threshold_estimate": threshold_estimate(scale) if scale else None,
        "details": details,
        "setup": {
            "qa": str(args.qa), "questions": len(questions),
            "with_evidence": sum(1 for q in questions if q.get("evidence")),
            "corpus": str(args.corpus), "repeat": args.repeat, "cold_runs": args.cold_runs,
            "hnsw_threshold": args.hnsw_threshold,
            "latency": "warm (after a warm-up pass), pooled over every question × repeat; query-vector cache "
                       "cleared before every timed search/ask (cached figures in details)",
        },
    }
    return result


def ratios(pipelines: dict) -> dict:
    naive = pipelines.get("naive", {})
    out = {}
    for name, metrics in pipelines.items():
        out[name] = {}
        for key in METRICS:
            a, b = metrics.get(key), naive.get(key)
            out[name][key] = round(a / b, 3) if a is not None and b not in (None, 0) else None
    return out


def _check(value, comparison: str, limit: float) -> bool | None:
    if value is None:
        return None
    return value <= limit if comparison == "<=" else value >= limit


def targets(pipelines: dict, scale: list[dict]) -> dict:
    product = pipelines.get("cqvet-qa", {})
    out = {}
    for key, (comparison, limit, label) in TARGETS.items():
        out[key] = {"target": label, "value": product.get(key), "met": _check(product.get(key), comparison, limit)}
    if "naive" in pipelines and product:
        want = round(min(1.0, pipelines["naive"]["hit@5"] + HIT5_MARGIN), 4)
        out["hit@5"] = {"target": f"≥ naive + {HIT5_MARGIN:.2f} ({want:.3f})", "value": product.get("hit@5"),
                        "met": _check(product.get("hit@5"), ">=", want - 1e-9)}
        naive_p50 = pipelines["naive"]["search_p50_ms"]
        out["search_p50_vs_naive"] = {"target": f"search p50 ≤ naive's ({naive_p50:.1f} ms)",
                                      "value": product.get("search_p50_ms"),
                                      "met": _check(product.get("search_p50_ms"), "<=", naive_p50)}
    largest = max(scale, key=lambda s: s["passages"], default=None)
    if largest and largest["passages"] >= 100_000:
        out["scale_search_p50_ms"] = {"target": f"≤ {SCALE_TARGET_MS} ms at {largest['passages']:,} passages",
                                      "value": largest["search_p50_ms"],
                                      "met": _check(largest["search_p50_ms"], "<=", SCALE_TARGET_MS)}
    corpus_run = next((s for s in scale if s["fillers"] == 0), None)
    if corpus_run:
        same = corpus_run["flat"]["hit@5"] == corpus_run["hnsw_index"]["hit@5"]
        out["hnsw_hit@5_unchanged"] = {"target": "hit@5 flat = HNSW at corpus size",
                                       "value": [corpus_run["flat"]["hit@5"], corpus_run["hnsw_index"]["hit@5"]],
                                       "met": same}
    return out


# ------------------------------------------------------------------ the table

UNITS = {"build_s": " s", "cold_start_s": " s", "peak_rss_mb": " MB", "serve_peak_rss_mb": " MB"}


def _fmt(key: str, value) -> str:
    if value is None:
        return "—"
    if key in HIGHER_IS_BETTER:
        return f"{value:.3f}"
    if key.endswith("_ms"):
        return f"{value:.1f} ms"
    if key.endswith("rss_mb"):
        return f"{value:.0f} MB"
    if key.endswith("_s"):
        return f"{value:.2f} s"
    return f"{value:.2f}{UNITS.get(key, '')}"


def _mark(met) -> str:
    return "" if met is None else ("✓" if met else "✗")


def table(result: dict) -> str:
    m, p, r, t = result["machine"], result["pipelines"], result["ratios_to_naive"], result["targets"]
    s = result["setup"]
    lines = [
        f"cqvet-qa benchmark — {m['date']} — {m['cores']} cores, {m['cpu_model']}, {m.get('memory_gb', '?')} GB, "
        f"Python {m['python']}, torch {m.get('versions', {}).get('torch', '?')} ({m['torch_threads']} threads), "
        f"faiss {m.get('versions', {}).get('faiss-cpu', '?')}",
        f"load average at start {m['loadavg_start']}, at end {m['loadavg_end']}; whole run {m['total_s']} s",
        f"questions: {s['qa']} ({s['questions']}, {s['with_evidence']} with evidence); "
        f"latency: warm, pooled over {s['repeat']}× every question, query cache cleared before each call",
        "",
    ]
    names = [n for n in PIPELINES if n in p]
    header = ["metric", *[f"{n}" + ("" if n == "naive" else " (×naive)") for n in names], "target", ""]
    rows = []
    for key in METRICS:
        cells = [key]
        for n in names:
            cell = _fmt(key, p[n].get(key))
            if n != "naive" and r[n].get(key) is not None:
                cell += f" ({r[n][key]:.2f}×)"
            cells.append(cell)
        target = t.get(key)
        cells += [target["target"] if target else "", _mark(target["met"]) if target else ""]
        rows.append(cells)
    details = result["details"]
    if "cqvet-qa" in details:
        for key in ("search_cached_p50_ms", "ask_cached_p50_ms", "dense_only_p50_ms"):
            cells = [key]
            for n in names:
                v = details[n].get(key)
                cells.append(f"{v:.1f} ms" if v is not None else "—")
            rows.append(cells + ["", ""])
        rows.append(["passages", *[str(details[n].get("passages", "—")) for n in names], "", ""])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    lines += [fmt(header), fmt(["-" * w for w in widths])] + [fmt(row) for row in rows]
    if "cqvet-qa" in details and "cold_start" in details["cqvet-qa"]:
        runs = details["cqvet-qa"]["cold_start"]["runs"]
        lines.append(
            "cold start runs (launch→answer / import / Assistant.load / first ask / wall incl. exit, s): "
            + "; ".join(f"{x['first_answer_s']:.2f} / {x['import_s']:.2f} / {x['load_s']:.2f} / {x['first_ask_s']:.2f}"
                        f" / {x['wall_with_exit_s']:.2f}" for x in runs)
        )
    if result["scale"]:
        lines += ["", scale_table(result), ""]
        if milvus := milvus_table(result["scale"]):
            lines += [milvus, ""]
    lines.append("targets: " + ", ".join(f"{k} {v['target']} {_mark(v['met'])}" for k, v in t.items()))
    return "\n".join(lines)


def scale_table(result: dict) -> str:
    rows = [[
        "passages", "index", "search p50/p95 ms", "retrieval p50 ms", "dense flat/hnsw ms",
        "build flat/hnsw s", "bm25 build s", "hnsw recall@100 / top10", "hit@5 flat/hnsw", "peak RSS MB", "target",
    ]]
    for s in result["scale"]:
        f, h = s["flat"], s["hnsw_index"]
        chosen = h if s["chosen"] == "hnsw" else f
        is_big = s["passages"] >= 100_000
        rows.append([
            f"{s['passages']:,}" + (" (corpus)" if s["fillers"] == 0 else ""),
            s["chosen"],
            f"{s['search_p50_ms']:.1f} / {s['search_p95_ms']:.1f}",
            f"{chosen['retrieval_p50_ms']:.2f}",
            f"{f['dense_p50_ms']:.2f} / {h['dense_p50_ms']:.2f}",
            f"{f['build_s']:.2f} / {h['build_s']:.2f}",
            f"{s['bm25_build_s']:.1f}",
            f"{s['hnsw_recall@100']:.3f} / {s['hnsw_recall_top10_in_100']:.3f}",
            f"{f['hit@5']:.3f} / {h['hit@5']:.3f}",
            f"{s['peak_rss_mb']:.0f}",
            (f"≤ {SCALE_TARGET_MS} ms " + _mark(s["search_p50_ms"] <= SCALE_TARGET_MS)) if is_big else "",
        ])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    hn = result["scale"][0]["hnsw"]
    head = [
        f"scale: product hybrid search (BM25 + FAISS, HybridRetriever) over corpus passages + fillers; index = flat below "
        f"{result['setup']['hnsw_threshold']:,} passages, HNSW (M={hn['M']}, efConstruction={hn['efConstruction']}, "
        f"efSearch={hn['efSearch']}) from there; search = Assistant.search with the query cache cleared; "
        "retrieval = HybridRetriever.rank given the query vector; dense = top-100 FAISS alone",
    ]
    body = [fmt(rows[0]), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows[1:]]
    mem = "; ".join(
        f"{s['passages']:,}: vectors {s['vectors_mb']:.0f} MB, flat {s['flat']['index_mb']:.0f} MB, "
        f"hnsw {s['hnsw_index']['index_mb']:.0f} MB, bm25 {s['bm25_mb']:.0f} MB"
        for s in result["scale"]
    )
    cos = "; ".join(
        f"{s['passages']:,}: real {s['query_top_cos_real']:.3f} / filler {s['query_top_cos_filler']:.3f}"
        for s in result["scale"] if s["fillers"]
    )
    tail = [f"memory: {mem}", f"median top cosine of a question to real / filler passages: {cos}"]
    estimate = threshold_estimate(result["scale"])
    if estimate:
        tail.append(
            f"flat search costs {estimate['ms_per_10k']:.2f} ms per 10k passages (fit over {estimate['points']} sizes); "
            f"it stays within {FLAT_BUDGET_MS:g} ms up to ≈{estimate['flat_within_budget']:,} passages, "
            f"where HNSW answers in {estimate['hnsw_ms']:.2f} ms → switch to HNSW from ≈{estimate['recommended']:,} "
            f"(this run: {result['setup']['hnsw_threshold']:,})"
        )
    return "\n".join(head + body + tail)


FLAT_BUDGET_MS = 5.0  # share of the 30 ms search target that exact dense search may take


def threshold_estimate(scale: list[dict]) -> dict | None:
    """Least-squares line of flat dense time over size; where it crosses FLAT_BUDGET_MS."""
    import numpy as np

    runs = [s for s in scale if s["fillers"]]
    if len(runs) < 2:
        return None
    sizes = np.array([s["passages"] for s in runs], dtype=float)
    times = np.array([s["flat"]["dense_p50_ms"] for s in runs])
    slope, intercept = np.polyfit(sizes, times, 1)
    if slope <= 0:
        return None
    within = int(max(0.0, (FLAT_BUDGET_MS - intercept) / slope))
    recommended = max(10_000, int(round(within, -4)))
    return {"ms_per_10k": float(slope * 10_000), "points": len(runs), "flat_within_budget": within,
            "recommended": recommended, "hnsw_ms": float(max(runs, key=lambda s: s["passages"])["hnsw_index"]["dense_p50_ms"])}


# ------------------------------------------------------------------ CLI


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--qa", type=Path, required=True, help="JSONL questions with answers and evidence (format of the dev set)")
    parser.add_argument("--model", default=None, help="embedding model setting (default: the product's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--scale", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the questions (default 3)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--pipelines", type=lambda s: s.split(","), default=list(PIPELINES))
    parser.add_argument("--hnsw-threshold", type=int, default=HNSW_THRESHOLD, help="passages from which the scale run uses HNSW (default: the product's)")
    parser.add_argument("--child-timeout", type=float, default=900)
    parser.add_argument("--milvus", action=argparse.BooleanOptionalAction, default=importlib.util.find_spec("milvus_lite") is not None,
                        help="put each scale size into Milvus Lite too (default: when milvus-lite is installed)")
    parser.add_argument("--keep-tmp", action="store_true")
    parser.add_argument("--save", type=Path, help="also write the JSON object to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.corpus = args.corpus.resolve()
    args.qa = args.qa.resolve()
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    result = run(args)
    if args.save:
        args.save.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
