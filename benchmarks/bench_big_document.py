"""Reading and splitting big documents: time per size, to show it is linear (issue 17, finding 6).

Generates documents of growing size in three shapes that were slow before: report-like text
(`.txt`), Markdown with a heading every paragraph (`sections.md`, quadratic through a heading
search per section), and Markdown with unclosed inline markup (`markup.md`, quadratic through
unbounded regular expressions). Prints, per shape and size, the seconds to read and to split
(without the model's token count, which adds a tokenizer call per passage). Usage:

    python benchmarks/bench_big_document.py [MB ...]     # default 5 10 25 50
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from cqvet_qa.corpus.loader import SourceFile, read_document
from cqvet_qa.passages import split_document

LINE = "2024年，重庆市共有职业学校171所，其中中等职业学校126所，高等职业学校45所，在校生规模稳步扩大。"


def generate(shape: str, mb: float, folder: Path) -> Path:
    """A document of about `mb` MB in the given shape."""
    size = int(mb * 1024 * 1024)
    if shape == "report.txt":
        unit = " 1发展概况\n1.1 办学规模\n" + (LINE + "\n") * 20
    elif shape == "sections.md":
        unit = "## 第一节\n\n" + LINE + "\n\n"
    else:
        unit = "[重庆 **职业 <!-- 教育 *x `y " + LINE + "\n"
    path = folder / f"{mb:g}MB-{shape}"
    count = size // len(unit.encode()) + 1
    if shape == "sections.md":  # each section its own heading, as in a real document
        path.write_text("".join(f"## 第{i}节\n\n{LINE}\n\n" for i in range(count)), encoding="utf-8")
    else:
        path.write_text(unit * count, encoding="utf-8")
    return path


def measure(path: Path) -> tuple[float, float, int]:
    started = time.perf_counter()
    doc = read_document(SourceFile(path.name, path, ""))
    read = time.perf_counter() - started
    passages = split_document(doc, path.name)
    return read, time.perf_counter() - started - read, len(passages)


def main(sizes: list[float]) -> None:
    print(f"| shape | MB | read s | split s | passages | s per MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="cqvet-big-") as folder:
        for shape in ("report.txt", "sections.md", "markup.md"):
            for mb in sizes:
                path = generate(shape, mb, Path(folder))
                read, split, passages = measure(path)
                path.unlink()
                print(f"| {shape} | {mb:g} | {read:.1f} | {split:.1f} | {passages:,} | {(read + split) / mb:.2f} |", flush=True)


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [5, 10, 25, 50])
