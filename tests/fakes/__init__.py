"""Fake outside servers for tests: real HTTP on 127.0.0.1, one thread each, speaking the real wire format.

Each fake keeps a request log (endpoint label, path, time) and a queue of faults per endpoint, so a test can say
"the next `results_view` answers 429 with Retry-After 0.2" (or key a fault by a piece of the path, such as
`/6002_view.json`, to hit one event) and then count what the client really sent.
Faults: `429:<seconds>`, `500`, `sleep:<seconds>` (answer late, for timeouts), `truncated` (half the body, with
a matching Content-Length), `html` (a 200 HTML page, as ZwiftPower sends to a logged-out client).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(payload: Any) -> Answer:
    return Answer(body=json.dumps(payload).encode())


def html_answer(text: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status=status, body=text.encode(), content_type="text/html; charset=UTF-8", headers=headers)


def redirect(location: str, cookies: tuple[str, ...] = ()) -> Answer:
    return Answer(status=302, headers=(("Location", location), *(("Set-Cookie", c) for c in cookies)))


class FakeServer:
    """Base of every fake: subclasses implement `route(method, path, query, cookies, form) -> (endpoint, Answer)`."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, float]] = []
        self.faults: dict[str, list[str]] = {}
        self.delay_seconds = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset_log(self) -> None:
        """Forget every request and fault, once the requests still being answered (a client that gave up on a slow
        answer leaves the server sleeping on it) are done, so they do not count towards the next test's."""
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            self.log.clear()
            self.faults.clear()
            self.delay_seconds = 0.0
            self.max_in_flight = 0

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(endpoint for endpoint, _, _ in self.log)

    def times(self, endpoint: str) -> list[float]:
        with self._lock:
            return [t for e, _, t in self.log if e == endpoint]

    def add_faults(self, endpoint: str, *faults: str) -> None:
        with self._lock:
            self.faults.setdefault(endpoint, []).extend(faults)

    def route(
        self, method: str, path: str, query: dict[str, str], cookies: dict[str, str], form: dict[str, str]
    ) -> tuple[str, Answer]:
        raise NotImplementedError

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        form = dict(parse_qsl(raw.decode(), keep_blank_values=True)) if raw else {}
        cookies = {}
        for part in (request.headers.get("Cookie") or "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                cookies[name] = value
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay_seconds)
            self._answer(request, method, parts.path, query, cookies, form)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(
        self, request: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str],
        cookies: dict[str, str], form: dict[str, str],
    ) -> None:
        endpoint, answer = self.route(method, path, query, cookies, form)
        with self._lock:
            self.log.append((endpoint, request.path, time.monotonic()))
            queue = next((q for key, q in self.faults.items() if q and (key == endpoint or key in request.path)), None)
            fault = queue.pop(0) if queue else ""
        answer = self._apply(fault, answer)
        try:
            request.send_response(answer.status)
            request.send_header("Content-Type", answer.content_type)
            request.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers:
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    @staticmethod
    def _apply(fault: str, answer: Answer) -> Answer:
        kind, _, arg = fault.partition(":")
        if kind == "429":
            return Answer(429, b'{"error":"rate limited"}', headers=(("Retry-After", arg or "1"),))
        if kind == "500":
            return html_answer("<html><body>Internal Server Error</body></html>", status=500)
        if kind == "sleep":
            time.sleep(float(arg))
        if kind == "truncated":
            return Answer(answer.status, answer.body[: len(answer.body) // 2], answer.content_type, answer.headers)
        if kind == "html":
            return html_answer("<!DOCTYPE html><html><head><title>ZwiftPower - Login</title></head></html>")
        return answer
