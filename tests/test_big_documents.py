"""Big documents: a size limit with a clear message, a progress bar per document, linear reading
and splitting (issue 17, finding 6). benchmarks/bench_big_document.py times 50 MB.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_big_document import generate, measure  # noqa: E402
from cqvet_qa.assistant import Assistant  # noqa: E402
from cqvet_qa.corpus.loader import SourceFile, read_document  # noqa: E402
from cqvet_qa.passages import split_document  # noqa: E402
from cqvet_qa.settings import Settings  # noqa: E402
from school_reports import SCHOOL_REPORTS, write_corpus  # noqa: E402

# Shapes that took 10 s (sections) and 33 s (markup) per MB before, quadratic in the size.
SHAPES = ("report.txt", "sections.md", "markup.md")


@pytest.mark.parametrize("shape", SHAPES)
def test_reading_and_splitting_are_linear(shape, tmp_path):
    small = sum(measure(generate(shape, 0.5, tmp_path))[:2])
    big = sum(measure(generate(shape, 2, tmp_path))[:2])
    assert big < 3, f"{shape}: 2 MB took {big:.1f} s"
    assert big < 10 * max(small, 0.05), f"{shape}: 0.5 MB {small:.2f} s, 2 MB {big:.2f} s"  # 4× the size; quadratic is 16×


def test_a_document_over_the_limit_is_skipped_with_the_reason(tmp_path, assistant):
    corpus = write_corpus(tmp_path / "corpus", SCHOOL_REPORTS)
    generate("sections.md", 0.05, corpus).rename(corpus / "big.md")
    settings = Settings(corpus=corpus, index=tmp_path / "index", max_document_mb=0.01)
    qa = Assistant.load(settings=settings, embedder=assistant.embedder)
    skipped = {d.doc_id: d.skipped for d in qa.documents() if d.skipped}
    assert skipped == {"big.md": "the file is 0.1 MB; documents over 0.01 MB are skipped (CQVET_MAX_DOCUMENT_MB sets the limit)"}
    assert qa.ask("甲校2024年全日制在校生有多少人？").answered


def test_splitting_shows_a_progress_bar_per_document(tmp_path, capsys):
    path = generate("sections.md", 0.2, tmp_path)
    split_document(read_document(SourceFile(path.name, path, "")), "big.md", progress=True)
    assert "splitting big.md" in capsys.readouterr().err
    started = time.perf_counter()
    split_document(read_document(SourceFile(path.name, path, "")), "big.md")
    assert "splitting" not in capsys.readouterr().err and time.perf_counter() - started < 5
