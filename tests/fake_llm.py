"""A real OpenAI-style chat-completions server on 127.0.0.1 (stdlib ThreadingHTTPServer, no model).

Each test sets `server.reply`: ("sse", chunks) streams chunks as chat.completion.chunk events,
("script", function) streams what function(request JSON) returns, ("status", code) answers that
HTTP error with a body echoing the request's Authorization header (as some proxies do), ("hang",
None) says nothing. `server.requests` holds every request received.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sse(*pieces: str, done: bool = True) -> list[bytes]:
    """An OpenAI chat.completion.chunk stream carrying the pieces of text."""
    events = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    events += [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
    out = [f"data: {json.dumps(e, ensure_ascii=False)}\n\n".encode() for e in events]
    return out + ([b"data: [DONE]\n\n"] if done else [])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        server.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
        kind, payload = server.reply
        if kind == "hang":
            server.release.wait(15)  # say nothing until the test is over
            return
        if kind == "status":
            echoed = f"model crashed; you sent Authorization: {self.headers.get('Authorization')}"
            data = json.dumps({"error": {"message": echoed}}).encode()
            self.send_response(payload)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Echo-Authorization", str(self.headers.get("Authorization")))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        chunks = payload(body) if kind == "script" else payload
        self.send_response(200)  # chunked, one SSE event per chunk, a pause between
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


@contextmanager
def fake_llm():
    """The server on a free port; yields it with `base_url` set (…/v1)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests, httpd.reply, httpd.release = [], ("sse", sse("")), threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
