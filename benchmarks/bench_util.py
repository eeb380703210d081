"""Small helpers shared by the benchmark harness: timing statistics, memory, machine facts."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def ms(seconds: float) -> float:
    return seconds * 1000.0


def p50(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 3) if values else None


def p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)), 3) if values else None


def hits_at(ranks: list[int | None]) -> dict[str, float]:
    """hit@1/5/10 of first-hit ranks (None: not in the top 10)."""
    n = max(1, len(ranks))
    return {f"hit@{k}": round(sum(r is not None and r <= k for r in ranks) / n, 4) for k in (1, 5, 10)}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def peak_rss_mb() -> float:
    """Peak resident set of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        peak /= 1024
    return round(peak / 1024, 1)


def current_rss_mb() -> float | None:
    """Resident set now (Linux /proc), to separate the serving footprint from a build's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    import faiss  # noqa: F401  (versions of what is measured)

    info = {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch_threads": None,  # filled in from the cqvet-qa child, where the Embedder set it
        "date": _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "loadavg_start": loadavg(),
    }
    try:
        from importlib.metadata import version

        info["versions"] = {
            name: version(name)
            for name in ("torch", "faiss-cpu", "bm25s", "jieba", "sentence-transformers", "langchain-text-splitters")
        }
    except Exception:  # a missing distribution name is not worth failing the run
        pass
    try:
        mem = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 1024**2, 1)
    except (OSError, AttributeError):
        pass
    return info


def clear_query_cache() -> None:
    """Forget cached query vectors so the next search pays for encoding the query."""
    from cqvet_qa.embedding import model

    cached = getattr(model, "_cached_query", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def raw_texts(corpus_dir: Path) -> list[str]:
    """The corpus files as they are on disk (no cleaning), for the naive peers."""
    files = sorted(p for p in Path(corpus_dir).iterdir() if p.is_file() and p.suffix.lower() == ".txt")
    return [p.read_text(encoding="utf-8") for p in files]
