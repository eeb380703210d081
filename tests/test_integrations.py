"""The LangChain retriever in a chain, and the README's Python and LangChain snippets run as printed.

The snippets load their own Assistant from ./corpus and ./index (the repo's), with the
session's model, as test_cli does, so that the model is loaded once for the suite.
"""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

import cqvet_qa.assistant as assistant_module
from cqvet_qa.integrations.langchain import CqvetRetriever
from readme import code_block
from repo_data import REPO

METADATA = {"doc", "section", "page", "chunk_id", "rank", "score"}


@pytest.fixture
def shared_model(monkeypatch, assistant):
    monkeypatch.setattr(assistant_module, "Embedder", lambda settings=None: assistant.embedder)


def run_snippet(heading: str, monkeypatch, capsys) -> str:
    monkeypatch.chdir(REPO)
    exec(compile(code_block(heading, "python"), f"README.md {heading}", "exec"), {"__name__": "readme"})
    return capsys.readouterr().out


def test_a_chain_of_the_retriever_and_a_formatting_step_gives_the_passage_and_its_metadata(assistant):
    retriever = CqvetRetriever(assistant=assistant, k=3)
    chain = retriever | RunnableLambda(lambda docs: [(d.page_content, d.metadata) for d in docs])
    passages = chain.invoke("办学条件总体达标率")
    assert len(passages) == 3
    assert all(set(metadata) == METADATA for _, metadata in passages)
    assert [m["rank"] for _, m in passages] == [1, 2, 3]
    found = [(text, m) for text, m in passages if "88.5%" in text]
    assert any(m["section"] == "1 发展概况 › 1.2 办学能力" and m["page"] == 14 for _, m in found), passages


def test_the_retriever_keeps_to_one_document_and_returns_documents(assistant):
    title = "重庆市职业教育质量年度报告（2024年度）"
    documents = CqvetRetriever(assistant=assistant, doc=title).invoke("鲁班工坊")
    assert documents and all(isinstance(d, Document) and d.metadata["doc"] == title for d in documents)


def test_readme_python_snippet(shared_model, monkeypatch, capsys):
    out = run_snippet("### Python", monkeypatch, capsys)
    lines = out.splitlines()
    assert "1 发展概况 › 1.2 办学能力 p.14" in out
    answer = next(line for line in lines if line.startswith("16年"))
    *_, answered, confidence = answer.split()
    assert answered == "True" and 0.5 < float(confidence) <= 1
    assert any(line.startswith("  ") and "p.9: " in line and "连续16年" in line for line in lines)
    assert lines[-1].startswith("2024年中职毕业生毕业去向落实率是多少？ ")


def test_readme_langchain_snippet(shared_model, monkeypatch, capsys):
    out = run_snippet("### LangChain", monkeypatch, capsys)
    first = out.split("\n\n")[0]
    assert first.startswith("[1 发展概况 › 1.2 办学能力 · p.14] ") and "88.5%" in first
