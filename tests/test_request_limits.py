"""Request limits and who may call, against a real `cqvet-qa serve` process over raw HTTP (httpx).

A body over the limit is refused with 413 before it is read (by Content-Length, or counted as a
chunked body arrives); a question, a history text or a history longer than the API accepts gets
a one-line refusal before anything cleans it. Host names other than this machine's get 400,
other origins 403 without CORS headers, and a call with missing inputs a one-line error with no
traceback in the server's log.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from cqvet_qa.inputs import MAX_HISTORY_TURNS, MAX_INPUT_CHARS, clean_question
from server_process import serve_process

LIMIT_MB = 1
RATE = "2024年办学条件总体达标率是多少？"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serve_process(log, "--no-rebuild", env={"CQVET_MAX_REQUEST_MB": str(LIMIT_MB)}) as (url, _):
        yield url, log


def call(url: str, endpoint: str, data, **options) -> tuple[str, object]:
    """One call of a named endpoint as any HTTP client makes it: ("complete", outputs), ("error", message).

    `data` is padded with the endpoints' defaults (ask: question, history, k, mode, doc).
    """
    data = data + [[], 5, "", ""][len(data) - 1 :] if endpoint == "ask" and data else data
    data = data + [5, ""][len(data) - 1 :] if endpoint == "search" and data else data
    posted = httpx.post(f"{url}/gradio_api/call/{endpoint}", json={"data": data}, timeout=60, **options)
    posted.raise_for_status()
    result = httpx.get(f"{url}/gradio_api/call/{endpoint}/{posted.json()['event_id']}", timeout=120).text
    events = [block.splitlines() for block in result.strip().split("\n\n")]
    event, data = (events[-1] + [""])[:2]
    event, data = event.removeprefix("event: "), json.loads(data.removeprefix("data: "))
    return event, data["error"] if event == "error" else data


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    url, _ = server
    body = json.dumps({"data": ["问" * (LIMIT_MB * 1024 * 1024)]}).encode()
    started = time.monotonic()
    response = httpx.post(f"{url}/gradio_api/call/ask", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413, response.text[:200]
    assert response.text.strip() == f"Payload Too Large: a request may carry at most {LIMIT_MB} MB"
    assert time.monotonic() - started < 10


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(server):
    url, _ = server

    def chunks():
        yield b'{"data": ["'
        for _ in range(3 * LIMIT_MB * 16):
            yield b"x" * 65536
        yield b'"]}'

    response = httpx.post(f"{url}/gradio_api/queue/join", content=chunks(), headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413 and "at most 1 MB" in response.text


def test_a_question_over_the_input_limit_is_refused_in_one_line(server):
    event, data = call(server[0], "ask", ["问" * (MAX_INPUT_CHARS + 1)])
    assert event == "error" and data == f"the question has {MAX_INPUT_CHARS + 1:,} characters; at most {MAX_INPUT_CHARS:,} are accepted"
    event, data = call(server[0], "search", ["问" * (MAX_INPUT_CHARS + 1)])
    assert event == "error" and "at most" in data


def test_history_over_the_limits_is_refused_in_one_line(server):
    turns = [["有多少个鲁班工坊？", "2个"]] * (MAX_HISTORY_TURNS + 1)
    event, data = call(server[0], "ask", [RATE, turns])
    assert (event, data) == ("error", f"history has {MAX_HISTORY_TURNS + 1} turns; at most {MAX_HISTORY_TURNS} are accepted")
    event, data = call(server[0], "ask", [RATE, [["问", "答" * (MAX_INPUT_CHARS + 1)]]])
    assert event == "error" and "a history turn has" in data


def test_requests_within_the_limits_are_answered(server):
    event, data = call(server[0], "ask", [RATE, [["有多少个鲁班工坊？", "2个"]] * MAX_HISTORY_TURNS])
    assert event == "complete", data
    [answer] = data
    assert answer["answered"] and "88.5%" in answer["text"]


def test_cleaning_cuts_before_it_cleans():
    started = time.monotonic()
    cleaned = clean_question("<b>问</b>" * 2_000_000)  # 16 M characters: seconds to clean whole
    assert time.monotonic() - started < 1
    assert cleaned.truncated and cleaned.text.startswith("问问")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", ""])
def test_other_host_names_are_refused(server, host):
    response = httpx.get(f"{server[0]}/config", headers={"Host": host}, timeout=30)
    assert response.status_code == 400
    assert "evil" not in response.text


def test_this_machines_names_are_served(server):
    port = server[0].rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert httpx.get(f"{server[0]}/config", headers={"Host": host}, timeout=30).status_code == 200


@pytest.mark.parametrize("origin", ["http://localhost:9999", "http://evil.example", "null"])
def test_other_origins_get_no_cors(server, origin):
    url = server[0]
    preflight = httpx.options(
        f"{url}/gradio_api/call/ask", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=30
    )
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    response = httpx.get(f"{url}/config", headers={"Origin": origin}, timeout=30)
    assert response.status_code == 403 and "access-control-allow-origin" not in response.headers


def test_the_pages_own_origin_is_served(server):
    url = server[0]
    response = httpx.get(f"{url}/config", headers={"Origin": url}, timeout=30)
    assert response.status_code == 200


def test_missing_inputs_get_one_line_and_no_traceback(server):
    url, log = server
    for endpoint, data in (("ask", []), ("ask", [RATE]), ("search", ["在校生"])):
        response = httpx.post(f"{url}/gradio_api/call/{endpoint}", json={"data": data}, timeout=30)
        assert response.status_code == 422, response.text
        assert response.text.count("\n") == 1 and f"/{endpoint} takes" in response.text
    joined = httpx.post(f"{url}/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"}, timeout=30)
    assert joined.status_code == 422
    event, message = call(url, "ask", [None])
    assert (event, message) == ("error", "the question is empty (nothing left once spaces, control characters and markup are removed)")
    assert "Traceback" not in log.read_text(encoding="utf-8")
