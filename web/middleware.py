"""ASGI middleware in front of every route: a body size limit enforced before authentication, and security
headers on every answer."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_HEADERS = [  # JSON answers: nothing to render, frame, sniff or cache
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class BodyTooLarge(Exception):
    """The client sent more than the path's limit."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(f"request body over {limit} bytes (received {received} so far)")
        self.limit = limit
        self.received = received


class BodyLimit:
    """Refuses request bodies over the path's limit with 413, before any route, dependency or key check runs.

    ``Content-Length`` over the limit is refused without reading a byte; a chunked body is counted as it
    arrives and cut off at the limit. ``uploads`` are path patterns (regular expressions) with the larger limit.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, uploads: Sequence[str]) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.uploads = [re.compile(p) for p in uploads]

    def limit_for(self, path: str) -> int:
        """The byte limit of a path."""
        return self.upload_limit if any(p.fullmatch(path) for p in self.uploads) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0:
                await _refuse(send, 400, "bad_request", "Content-Length is not a number")
                return
            if size > limit:
                await _refuse(send, 413, "too_large", f"the body ({size} bytes) is over the limit of {limit} bytes")
                return
            await self.app(scope, receive, send)  # the server stops the body at Content-Length
            return
        try:  # no Content-Length (chunked): read it here, up to the limit, before the app sees any of it
            messages = await _read_body(receive, limit)
        except BodyTooLarge as exc:
            await _refuse(send, 413, "too_large", f"the body is over the limit of {exc.limit} bytes")
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


async def _read_body(receive: Receive, limit: int) -> list[Message]:
    """The request's body messages, or :class:`BodyTooLarge` once more than ``limit`` bytes arrived."""
    messages: list[Message] = []
    received = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        received += len(message.get("body", b""))
        if received > limit:
            raise BodyTooLarge(limit, received)
        if not message.get("more_body", False):
            return messages


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *API_HEADERS]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds the security headers to every HTTP answer (the console's pages set their own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = not scope["path"].startswith("/console") and not scope["path"].startswith("/docs")
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in API_HEADERS if h[0] not in present]
                if api:
                    extra += [h for h in (NO_STORE, API_CSP) if h[0] not in present]
                if https:
                    extra.append(HSTS)
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
