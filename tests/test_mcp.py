"""`cqvet-qa mcp`, started as the README's MCP client configuration says, driven by the SDK's own client.

One server process serves the whole module: a conversation (list the tools, search, ask, bad
calls, a good call after them) is run once and each test checks one part of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import fields

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from cqvet_qa import Answer, Citation, Hit
from readme import CHECKOUT, code_block
from repo_data import REPO

SEARCH = {"query": "办学条件总体达标率", "k": 5}
QUESTION = "重庆在全国职业院校技能大赛上已经连续多少年保持西部第一了？"
BAD_CALLS = {
    "k_not_a_number": ("search", {"query": "办学条件总体达标率", "k": "x"}),
    "k_too_big": ("search", {"query": "办学条件总体达标率", "k": 1000}),
    "empty_question": ("ask", {"question": ""}),
    "blank_query": ("search", {"query": "  \n "}),
    "unknown_doc": ("search", {"query": "办学条件总体达标率", "doc": "no-such-report.pdf"}),
    "history_not_turns": ("ask", {"question": QUESTION, "history": "none"}),
}


def readme_server() -> StdioServerParameters:
    """The README's configuration for this checkout; its console script run as `python -m cqvet_qa.cli`,
    with this interpreter, so that the code under test is the one that serves."""
    config = json.loads(code_block("### MCP (AI assistants)", "json").replace(CHECKOUT, str(REPO)))
    server = config["mcpServers"]["cqvet-qa"]
    assert server["command"] == f"{REPO}/.venv/bin/cqvet-qa"
    return StdioServerParameters(
        command=sys.executable, args=["-m", "cqvet_qa.cli", *server["args"]], env={**os.environ, **server["env"]}
    )


async def conversation(params: StdioServerParameters, errlog) -> dict:
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = {"tools": {t.name: t for t in (await session.list_tools()).tools}}
        result["search"] = await session.call_tool("search", SEARCH)
        result["ask"] = await session.call_tool("ask", {"question": QUESTION})
        result["follow_up"] = await session.call_tool(
            "ask", {"question": "那2023年呢？", "history": [{"question": "2024年办学条件总体达标率是多少？", "answer": "88.5%"}]}
        )
        for name, (tool, arguments) in BAD_CALLS.items():
            result[name] = await session.call_tool(tool, arguments)
        result["after_errors"] = await session.call_tool("search", {"query": "鲁班工坊", "k": 2})
        result["documents"] = await session.call_tool("documents", {})
        return result


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    log = tmp_path_factory.mktemp("mcp") / "server-stderr.txt"
    with open(log, "w+", encoding="utf-8") as errlog:
        try:
            return asyncio.run(asyncio.wait_for(conversation(readme_server(), errlog), timeout=300))
        except BaseException:
            errlog.seek(0)
            print(errlog.read()[-3000:], file=sys.stderr)
            raise


def names(dataclass) -> set[str]:
    return {f.name for f in fields(dataclass)}


def test_the_three_tools_are_listed_with_bilingual_descriptions_and_schemas(calls):
    tools = calls["tools"]
    assert set(tools) == {"search", "ask", "documents"}
    assert set(tools["search"].input_schema["properties"]) == {"query", "k", "doc"}
    assert tools["search"].input_schema["required"] == ["query"]
    assert set(tools["ask"].input_schema["properties"]) == {"question", "history", "doc"}
    for tool in tools.values():
        assert "报告" in tool.description or "文件" in tool.description
        assert tool.output_schema and tool.annotations.read_only_hint


def test_search_finds_the_attainment_rate_passage_with_its_page(calls):
    result = calls["search"]
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["query"] == SEARCH["query"] and len(data["hits"]) == SEARCH["k"]
    assert all(set(h) == names(Hit) for h in data["hits"])
    found = [h for h in data["hits"] if "88.5%" in h["text"]]
    assert any(h["section"] == "1 发展概况 › 1.2 办学能力" and h["page"] == 14 for h in found), data["hits"]


def test_ask_gives_the_cited_answer(calls):
    result = calls["ask"]
    assert not result.is_error, result.content
    answer = result.structured_content
    assert set(answer) == names(Answer)
    assert answer["answered"] and answer["text"].startswith("16年") and 0.5 < answer["confidence"] <= 1
    assert answer["citations"] and all(set(c) == names(Citation) for c in answer["citations"])
    assert any("16年" in c["quote"] and c["page"] >= 1 and c["section"] for c in answer["citations"])


def test_history_completes_a_follow_up(calls):
    answer = calls["follow_up"].structured_content
    assert "2023" in answer["question"] and "达标率" in answer["question"]


@pytest.mark.parametrize("name", BAD_CALLS)
def test_a_bad_call_is_a_one_line_tool_error(calls, name):
    result = calls[name]
    assert result.is_error
    (message,) = [c.text for c in result.content]
    assert message and "\n" not in message and "Traceback" not in message and "Error executing" not in message
    expected = {
        "k_not_a_number": "k must be a whole number from 1 to 20",
        "k_too_big": "k must be a whole number from 1 to 20",
        "empty_question": "the question is empty",
        "blank_query": "the query is empty",
        "unknown_doc": "no indexed document is called 'no-such-report.pdf'",
        "history_not_turns": "history must be a list of {question, answer} turns",
    }[name]
    assert message.startswith(expected)


def test_the_server_keeps_serving_after_errors(calls):
    result = calls["after_errors"]
    assert not result.is_error and len(result.structured_content["hits"]) == 2


def test_documents_lists_the_report(calls):
    documents = calls["documents"].structured_content["documents"]
    assert [d["title"] for d in documents] == ["重庆市职业教育质量年度报告（2024年度）"]
