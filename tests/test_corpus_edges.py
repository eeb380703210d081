"""Smaller findings of issue 17 (finding 8) outside the HTTP layer: names printed to a terminal,
symbolic links that leave corpus/, and an index swapped by another process's build.
"""

from __future__ import annotations

import os

import pytest

import cqvet_qa.assistant as assistant_module
import cqvet_qa.embedding.model as model_module
from cqvet_qa.assistant import Assistant
from cqvet_qa.cli import main
from cqvet_qa.index_store import build_index
from cqvet_qa.passages import SplitSettings
from school_reports import SCHOOL_REPORTS, write_corpus

SCHOOL_C = "# 丙校质量年报\n\n## 1 办学规模\n\n丙校2024年全日制在校生7300人，开设专业28个。\n"


@pytest.fixture
def site(tmp_path, assistant, monkeypatch):
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: assistant.embedder)
    monkeypatch.setattr(model_module, "Embedder", lambda model=None: assistant.embedder)
    corpus = write_corpus(tmp_path / "corpus", SCHOOL_REPORTS)
    return corpus, tmp_path / "index", ["--corpus", str(corpus), "--index", str(tmp_path / "index")]


def test_docs_prints_no_control_characters_from_names(site, capsys):
    corpus, _, common = site
    (corpus / "evil\n\x1b[31mforged line\x1b[0m.md").write_text("# 标题\x1b]0;title\x07\n\n正文一句。\n", encoding="utf-8")
    assert main(["build", *common]) == 0
    capsys.readouterr()
    assert main(["docs", *common]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert len(out.strip().splitlines()) == 3  # one line per document, none forged
    assert "evil??[31mforged line?[0m.md" in out


def test_a_link_out_of_the_corpus_is_refused_with_a_message(site, capsys, tmp_path):
    corpus, index, common = site
    secret = tmp_path / "outside.txt"
    secret.write_text("机密：服务器口令是 hunter2。\n", encoding="utf-8")
    os.symlink(secret, corpus / "leak.txt")
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    os.symlink(corpus / "school-a.md", corpus / "alias.md")  # a link within the corpus is a document
    assert main(["build", *common]) == 0
    capsys.readouterr()
    qa = Assistant.load(corpus, index)
    skipped = {d.doc_id: d.skipped for d in qa.documents() if d.skipped}
    assert skipped == dict.fromkeys(["leak.txt", "passwd.txt"], "a link to a file outside the corpus folder: not read")
    assert not any("hunter2" in h.text or "root:" in h.text for h in qa.search("服务器口令 root", k=10))
    assert "alias.md" in {d.doc_id for d in qa.documents() if not d.skipped}


def test_an_index_swapped_by_another_build_is_followed(site, assistant):
    corpus, index, _ = site
    serving = Assistant.load(corpus, index, embedder=assistant.embedder)
    (corpus / "school-c.md").write_text(SCHOOL_C, encoding="utf-8")
    build_index(corpus, index, assistant.embedder, SplitSettings(max_tokens=assistant.embedder.info.max_seq_length))  # as `cqvet-qa build` would
    assert "school-c.md" in {d.doc_id for d in serving.documents()}
    answer = serving.ask("丙校2024年全日制在校生有多少人？", doc="school-c.md")
    assert answer.answered and "7300人" in answer.text
