"""Which HTTP requests reach the app: this machine's names, the page's own origin, bounded bodies.

`RequestGuard` wraps the whole ASGI app, Gradio's CORS layer included, so a refused request is
answered before anything reads, parses or cleans it:

- a Host header other than localhost, 127.0.0.1, ::1 or the --host given: 400 (a DNS-rebinding
  page would otherwise be served, its host echoed in /config);
- an Origin other than the page's own (scheme://Host): 403 with no CORS headers, so another
  page, even one on another localhost port, can neither read answers nor post feedback;
- a body larger than the request limit (Settings.max_request_mb): 413, by its Content-Length
  or, for a chunked body, counted as it arrives;
- the upload routes when uploads are off: 404 (Gradio's own routes cannot be removed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse

UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/upload_progress")
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
UPLOAD_OVERHEAD = 1 << 20  # multipart framing around an uploaded file
_HOST = re.compile(r"^\[?(?P<name>[^\[\]]*?)\]?(?::\d{1,5})?$")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Policy:
    """What the guard lets through: host names, the body limit, whether uploads are on."""

    hosts: frozenset[str]
    max_body: int  # bytes
    max_upload: int | None = None  # bytes of an upload request; None: uploads are off

    @classmethod
    def for_server(cls, host: str, max_request_mb: float, max_upload_bytes: int | None) -> "Policy":
        upload = None if max_upload_bytes is None else max_upload_bytes + UPLOAD_OVERHEAD
        return cls(frozenset({*LOCAL_NAMES, host.lower()}), int(max_request_mb * 1024 * 1024), upload)


def host_name(host: str) -> str:
    """The name in a Host header ("127.0.0.1:7860" → "127.0.0.1", "[::1]:80" → "::1")."""
    found = _HOST.match(host.strip())
    return found["name"].lower() if found else ""


class RequestGuard:
    """ASGI middleware applying a Policy; everything it lets through goes on unchanged."""

    def __init__(self, app, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            limit = self._check(scope, Headers(scope=scope))
            if limit is not None:
                receive = replay(await read_body(receive, limit), receive)
        except Refused as refused:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await PlainTextResponse(refused.message + "\n", status_code=refused.status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, scope, headers: Headers) -> int | None:
        """Refuse a request the policy does not allow; the byte limit to count a body against, if any."""
        host = headers.get("host", "")
        if host_name(host) not in self.policy.hosts:
            raise Refused(400, "Bad Request: this server answers only to localhost, 127.0.0.1 or its --host name")
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"{_web_scheme(scope)}://{host}".lower():
            raise Refused(403, "Forbidden: requests from other sites are not accepted")
        path = re.sub("/+", "/", scope.get("path", "")).rstrip("/")
        upload = path in UPLOAD_PATHS
        if upload and self.policy.max_upload is None:
            raise Refused(404, "Not Found")
        if scope["type"] != "http":
            return None
        limit = self.policy.max_upload if upload else self.policy.max_body
        length = headers.get("content-length")
        if length is None:
            return limit if scope["method"] in ("POST", "PUT", "PATCH") else None
        if not length.isdigit():
            raise Refused(400, "Bad Request: Content-Length is not a number")
        if int(length) > limit:
            raise Refused(413, _too_large(limit))
        return None


def _web_scheme(scope) -> str:
    return {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))


def _too_large(limit: int) -> str:
    return f"Payload Too Large: a request may carry at most {limit / 1024 / 1024:g} MB"


async def read_body(receive, limit: int) -> bytes:
    """The whole request body, refused with 413 once it passes `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Refused(400, "Bad Request: the body did not arrive")  # the client went away
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise Refused(413, _too_large(limit))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive):
    """A receive callable that gives `body` once, then what `receive` gives (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive_again():
        return pending.pop() if pending else await receive()

    return receive_again
