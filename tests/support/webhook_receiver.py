"""A webhook receiver on loopback (http.server in a thread) that records every request and can misbehave."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request as it arrived, and what was answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> dict[str, Any]:
        """The body parsed."""
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


@dataclass
class Behaviour:
    """How the receiver answers: ``fail_first`` requests get ``fail_status``. Accepted requests whose key is in
    ``slow_once`` (the first time it arrives), or all of them when ``slow_all``, are processed and answered only
    after ``slow_s`` (a sender with a shorter timeout gives up and retries)."""

    fail_first: int = 0
    fail_status: int = 503
    slow_once: set[str] = field(default_factory=set)
    slow_all: bool = False
    slow_s: float = 0.0


class WebhookReceiver:
    """Start with :meth:`start` on a given port; :attr:`received` lists every request in arrival order."""

    def __init__(self, port: int, behaviour: Behaviour | None = None) -> None:
        self.port = port
        self.behaviour = behaviour or Behaviour()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"http://127.0.0.1:{self.port}/hooks"

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        with self._lock:
            b = self.behaviour
            status = b.fail_status if b.fail_first > 0 else 200
            b.fail_first = max(b.fail_first - 1, 0)
            key = headers.get("idempotency-key", "")
            delay = 0.0
            if status == 200 and (b.slow_all or key in b.slow_once):
                b.slow_once.discard(key)
                delay = b.slow_s
            self.received.append(Received(path, headers, body, status))
        return status, delay

    def start(self) -> WebhookReceiver:
        """Listen on 127.0.0.1:port."""
        answer = self._answer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, delay = answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Received]:
        """Requests answered 200."""
        with self._lock:
            return [r for r in self.received if r.status == 200]

    def wait_for(self, done: Callable[[WebhookReceiver], bool], timeout: float = 30) -> None:
        """Wait until ``done(self)`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done(self):
                return
            time.sleep(0.05)
        raise AssertionError(f"receiver condition not met within {timeout} s; got {len(self.received)} requests: "
                             f"{[(r.headers.get('idempotency-key'), r.status) for r in self.received]}")
