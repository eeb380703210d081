"""The command line as a script uses it: each case runs `cqvet-qa` in a fresh interpreter.

A fresh interpreter is the point: what a lookup imports, how it exits and what it prints are
only seen from outside. All run on the repo's index with --no-rebuild.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cqvet_qa import __version__

LUBAN = "有多少个鲁班工坊？"
# A question the report answers for the whole city, far above any threshold (confidence 0.99): `ask`
# exits 0 on it whatever a retrained model decides about borderline ones.
RATE = "2024年办学条件总体达标率是多少？"
# The issue's own near miss: the report gives no dropout rate (its measure stands in no sentence).
UNANSWERED = "2024年重庆中职学生辍学率是多少？"
HEAVY = ("torch", "transformers", "gradio", "sentence_transformers", "langchain_text_splitters", "httpx")
# Runs the CLI as the installed script does, then prints on stderr the packages it imported.
IMPORT_PROBE = """
import json, sys
from cqvet_qa.cli import main
code = main(sys.argv[1:])
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
sys.exit(code)
"""


def imported(proc) -> set[str]:
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def cqvet(*args: str, stdin: str | None = None, env: dict | None = None, probe: bool = False):
    command = [sys.executable, "-c", IMPORT_PROBE] if probe else [sys.executable, "-m", "cqvet_qa.cli"]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CQVET_LLM_BASE_URL": "", **(env or {})},
    )


@pytest.fixture(scope="module", autouse=True)
def built_index(assistant):
    """The session's Assistant has brought the repo's index up to date."""
    return assistant


@pytest.mark.parametrize("command", [["search", LUBAN, "-k", "3"], ["ask", RATE]])
def test_a_lookup_imports_no_torch_transformers_gradio_or_build_libraries(command):
    proc = cqvet(*command, "--no-rebuild", probe=True)
    assert proc.returncode == 0, proc.stderr
    assert imported(proc) & set(HEAVY) == set()


def test_version():
    proc = cqvet("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"cqvet-qa {__version__}"


def test_a_mistyped_command_gets_a_suggestion_and_exit_2():
    proc = cqvet("serach", LUBAN)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "cqvet-qa: error: unknown command 'serach'; did you mean 'search'? (see cqvet-qa --help)"


def test_a_usage_error_exits_2():
    proc = cqvet("search", LUBAN, "-k", "zero")
    assert proc.returncode == 2 and "-k" in proc.stderr


@pytest.mark.parametrize("command", ["ask", "search"])
def test_dash_reads_the_question_from_stdin(command):
    question = RATE if command == "ask" else LUBAN
    proc = cqvet(command, "-", "--json", "--no-rebuild", stdin=question + "\n")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    if command == "ask":
        assert data["question"] == RATE and "88.5%" in data["text"]
    else:
        assert data["query"] == LUBAN and data["hits"]


def test_an_unanswered_question_exits_1_and_still_shows_the_nearest_passages():
    proc = cqvet("ask", UNANSWERED, "--no-rebuild")
    assert proc.returncode == 1, proc.stderr
    assert "[1]" in proc.stdout


def test_piped_search_output_is_not_wrapped():
    proc = cqvet("search", LUBAN, "-k", "5", "--no-rebuild")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(cqvet("search", LUBAN, "-k", "5", "--json", "--no-rebuild").stdout)["hits"]
    longest = max(hits, key=lambda h: len(h["text"]))
    first_line = longest["text"].splitlines()[0]
    assert "    " + first_line in proc.stdout.splitlines()  # the whole line, as long as it is


def test_an_unknown_document_is_refused_before_the_model_loads():
    proc = cqvet("search", LUBAN, "--doc", "nosuch", "--no-rebuild", probe=True)
    assert proc.returncode == 2
    assert "no indexed document is called 'nosuch'" in proc.stderr
    assert "onnxruntime" not in imported(proc) and "loading" not in proc.stderr


def test_a_slow_load_says_so_on_stderr():
    proc = cqvet("search", LUBAN, "--no-rebuild", env={"CQVET_STATUS_DELAY": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "cqvet-qa: loading the model and the index…" in proc.stderr


def test_the_server_loads_gradio_without_the_mcp_sdk_which_stays_importable():
    # gradio's MCP server class imports the SDK at import time (0.3 s of a 3 s start) though
    # `serve` never starts it; the `mcp` command, in the same installation, still needs it.
    probe = "import sys, cqvet_qa.ui.server; print('mcp' in sys.modules); import mcp.server; print('ok')"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.split() == ["False", "ok"], proc.stderr
