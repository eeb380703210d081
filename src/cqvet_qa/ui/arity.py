"""Calls that send fewer inputs than an event takes get one line back (422), not a traceback in the log.

Gradio checks the count itself, but by raising a ValueError whose traceback (with every input
received) goes to the server's log. `InputCount` reads the body of the calling routes first (the
guard has bounded its size) and answers a short `data` list itself.
"""

from __future__ import annotations

import json
import re

from starlette.responses import PlainTextResponse

from .guard import Refused, read_body, replay

# /gradio_api/call/NAME, /call/v2/NAME, /run/NAME, /api/NAME (by name) and /queue/join (by fn_index)
_BY_NAME = re.compile(r"^/gradio_api/(?:call/v2|call|run|api)/(?P<name>[^/]+)/?$")
_JOIN = "/gradio_api/queue/join"
MAX_BODY = 1 << 30  # the guard has refused larger bodies already


def input_counts(demo) -> dict[str | int, tuple[str, int]]:
    """Each event by api name and by fn_index: (its name, how many inputs it takes)."""
    counts: dict[str | int, tuple[str, int]] = {}
    for index, fn in demo.fns.items():
        name = fn.api_name or f"event {index}"
        counts[index] = (name, len(fn.inputs))
        if fn.api_name:
            counts[fn.api_name] = (name, len(fn.inputs))
    return counts


def shortfall(body: bytes, key, counts: dict) -> str | None:
    """Why this call's inputs are too few, or None (unknown events and bad JSON are Gradio's to answer)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    key = data.get("fn_index") if key is None else key
    inputs = data.get("data")
    if key not in counts or not isinstance(inputs, list):
        return None
    name, needed = counts[key]
    if len(inputs) >= needed:
        return None
    return f"/{name} takes {needed} inputs; the request sent {len(inputs)}"


class InputCount:
    """ASGI middleware: refuse a call with too few inputs before Gradio logs a traceback for it."""

    def __init__(self, app, counts: dict) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        by_name = _BY_NAME.match(path)
        if scope["type"] != "http" or scope["method"] != "POST" or not (by_name or path == _JOIN):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, MAX_BODY)
        except Refused as refused:
            await PlainTextResponse(refused.message + "\n", status_code=refused.status)(scope, receive, send)
            return
        if problem := shortfall(body, by_name["name"] if by_name else None, self.counts):
            await PlainTextResponse(f"Unprocessable: {problem}\n", status_code=422)(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)
