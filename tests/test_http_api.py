"""The HTTP API as other tools use it: the real app on a local port, called with gradio_client."""

from __future__ import annotations

import json
import threading

import pytest
from gradio_client import Client

from cqvet_qa.feedback import append_feedback


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server[0], verbose=False)


def test_only_named_endpoints_are_public(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/ask", "/search"}
    assert not api["unnamed_endpoints"]


def test_search_finds_the_compliance_rate(client):
    result = client.predict(query="2024年职业学校办学条件总体达标率", k=5, api_name="/search")
    assert result["query"] == "2024年职业学校办学条件总体达标率"
    hits = result["hits"]
    assert 1 <= len(hits) <= 5
    hit = next(h for h in hits if "88.5%" in h["text"])
    assert hit["section"] and isinstance(hit["page"], int) and hit["page"] > 0
    assert hit["chunk_id"] and hit["doc"]


def test_ask_returns_a_cited_answer(client):
    answer = client.predict(question="2024年办学条件总体达标率是多少？", history=[], api_name="/ask")
    json.dumps(answer)  # plain JSON all the way down
    assert {"text", "answered", "citations", "hits", "question", "mode", "note"} <= set(answer)
    assert answer["answered"] and answer["text"]
    assert answer["citations"], answer
    for c in answer["citations"]:
        assert c["section"] and isinstance(c["page"], int) and c["page"] > 0
        assert c["quote"] and c["chunk_id"] and c["doc"]
    assert {c["chunk_id"] for c in answer["citations"]} <= {h["chunk_id"] for h in answer["hits"]}


def test_ask_takes_history_and_rejects_empty_questions(client):
    history = [["有多少个鲁班工坊？", "2个"]]
    answer = client.predict(question="它们在哪里？", history=history, api_name="/ask")
    assert isinstance(answer["text"], str) and isinstance(answer["citations"], list)
    with pytest.raises(Exception, match="question"):
        client.predict(question="   ", history=[], api_name="/ask")


def test_feedback_appends_survive_concurrency(tmp_path):
    path = tmp_path / "feedback.jsonl"

    def worker(n: int) -> None:
        for i in range(25):
            append_feedback(path, {"worker": n, "i": i, "question": "问" * 500, "liked": i % 2 == 0})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    assert len({(r["worker"], r["i"]) for r in map(json.loads, lines)}) == 200


def test_search_and_ask_keep_to_one_document(two_school_server):
    client = Client(two_school_server, verbose=False)
    every = client.predict(query="2024年全日制在校生多少人", k=5, api_name="/search")
    assert {h["doc"] for h in every["hits"]} == {"甲校质量年报", "乙校质量年报"}
    for doc in ("school-b.md", "乙校质量年报"):  # file name or title
        hits = client.predict(query="2024年全日制在校生多少人", k=5, doc=doc, api_name="/search")["hits"]
        assert hits and {h["doc"] for h in hits} == {"乙校质量年报"}
    answer = client.predict(question="2024年全日制在校生有多少人？", doc="school-a.md", api_name="/ask")
    assert answer["answered"] and "12000人" in answer["text"]
    assert {c["doc"] for c in answer["citations"]} == {"甲校质量年报"}


def test_an_unknown_document_is_refused_with_the_names_to_use(two_school_server):
    client = Client(two_school_server, verbose=False)
    for endpoint, args in (("/search", {"query": "在校生"}), ("/ask", {"question": "在校生多少人？"})):
        with pytest.raises(Exception, match="school-a.md, school-b.md") as error:
            client.predict(**args, doc="丙校<b>", api_name=endpoint)
        assert "Traceback" not in str(error.value) and "<b>" not in str(error.value)
