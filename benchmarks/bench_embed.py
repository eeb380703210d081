"""Passages embedded per second through the index build's own path: the figure batch embedding is sized by.

    taskset -c 1 python benchmarks/bench_embed.py [--index index/] [--repeat 2]

Encodes the passages of a built index (their `index_text`) exactly as a build does,
`Embedder.encode_passages` (the int8 ONNX graph unless CQVET_EMBED_INT8=0); taskset pins it to
the cores measured. docs/SCALING.md uses the one-core figure.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from cqvet_qa.embedding.model import Embedder
from cqvet_qa.index_store import load_index
from cqvet_qa.settings import Settings

WARM_UP = 10  # passages encoded before timing (session set-up, first allocations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--repeat", type=int, default=2, help="timed passes over the passages (best is kept)")
    args = parser.parse_args()
    embedder = Embedder(Settings.from_env(index=args.index))
    texts = [p.index_text for p in load_index(args.index).passages]
    embedder.encode_passages(texts[:WARM_UP])
    best = min(_timed(lambda: embedder.encode_passages(texts)) for _ in range(args.repeat))
    tokens = sum(embedder.token_count(t) for t in texts)
    print(f"{embedder.info.name} ({embedder.info.precision}), {len(os.sched_getaffinity(0))} core(s): {len(texts)} passages "
          f"of {tokens / len(texts):.0f} tokens on average in {best:.1f} s = {len(texts) / best:.1f} passages/s, "
          f"{tokens / best:,.0f} tokens/s")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
