"""Console sign-in, CSRF, throttling, the feed socket's auth and the wrap-up endpoint, on the API served in-process."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.config import Settings
from calls.bus import EventBus
from calls.context import AppContext
from console.sessions import COOKIE
from core.metrics import Metrics
from media.ports import PortAllocator
from store.agents import AgentRecord
from store.store import Store
from tests.support.inproc import serve_in_thread
from web.app import create_app

PASSWORD = "console-secret-1"


@dataclass
class Console:
    base: str
    ctx: AppContext
    key: str
    agent: AgentRecord

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def login(self) -> tuple[httpx.Client, str]:
        """A client holding a session cookie, and the session's CSRF token."""
        c = self.client()
        r = c.post("/console/login", json={"username": self.agent.username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return c, str(r.json()["csrf_token"])


def _console(tmp_path, settings: Settings) -> Iterator[Console]:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    store.migrate()
    key = store.keys.create("admin")
    agent = store.agents.create("Anna Petrenko", "anna", PASSWORD, "hotline")
    ctx = AppContext(settings, store, EventBus(), Metrics(), PortAllocator(40000, 40010))
    ctx.board.sync(agent.info())
    with serve_in_thread(create_app(ctx, settings.console)) as base:
        yield Console(base, ctx, key, agent)
    store.close()


@pytest.fixture
def console(tmp_path) -> Iterator[Console]:
    yield from _console(tmp_path, Settings())


@pytest.fixture
def strict_console(tmp_path) -> Iterator[Console]:
    yield from _console(tmp_path, Settings(console={"login_fail_limit": 2, "login_block_s": 120}))


def test_login_sets_an_httponly_strict_cookie_and_gives_the_csrf_token(console):
    c = console.client()
    r = c.post("/console/login", json={"username": "anna", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie
    body = r.json()
    assert body["agent"] == {"id": console.agent.id, "name": "Anna Petrenko", "username": "anna"}
    assert body["csrf_token"] and body["csrf_token"] not in cookie and body["expires_in_s"] > 0
    again = c.get("/console/session")
    assert again.status_code == 200 and again.json()["csrf_token"] == body["csrf_token"]
    assert c.get(f"/api/v1/agents/{console.agent.id}").status_code == 200  # the cookie reads the API as an agent
    form = console.client().post("/console/login", data={"username": "anna", "password": PASSWORD})
    assert form.status_code == 200 and COOKIE in form.cookies


def test_failed_logins_look_the_same_set_no_cookie_and_are_logged(console, caplog):
    caplog.set_level(logging.WARNING, "hotline.console")
    c = console.client()
    wrong = c.post("/console/login", json={"username": "anna", "password": "not-the-password"})
    nobody = c.post("/console/login", json={"username": "nobody", "password": "not-the-password"})
    assert (wrong.status_code, nobody.status_code) == (401, 401)
    assert wrong.json() == nobody.json() == {"error": "unauthorized", "detail": "wrong user name or password"}
    assert "set-cookie" not in wrong.headers and "set-cookie" not in nobody.headers
    assert c.get("/console/session").status_code == 401
    assert sum("console login failed" in r.getMessage() for r in caplog.records) == 2
    assert c.post("/console/login", json={"username": "anna"}).status_code == 422


def test_repeated_failures_block_the_address_even_for_the_right_password(console):
    c = console.client()
    for _ in range(5):
        assert c.post("/console/login", json={"username": "anna", "password": "guess"}).status_code == 401
    blocked = c.post("/console/login", json={"username": "anna", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "set-cookie" not in blocked.headers


def test_the_failed_login_limit_and_block_come_from_the_settings(strict_console):
    c = strict_console.client()
    for _ in range(2):
        assert c.post("/console/login", json={"username": "anna", "password": "guess"}).status_code == 401
    blocked = c.post("/console/login", json={"username": "anna", "password": PASSWORD})
    assert blocked.status_code == 429 and 110 < int(blocked.headers["retry-after"]) <= 120


def test_changes_with_the_cookie_need_the_csrf_token_and_this_origin(console):
    c, csrf = console.login()
    path = f"/api/v1/agents/{console.agent.id}/status"
    assert c.put(path, json={"status": "away"}).status_code == 403
    assert c.put(path, json={"status": "away"}, headers={"X-CSRF-Token": "x" + csrf}).status_code == 403
    assert c.put(path, json={"status": "away"}, headers={"X-CSRF-Token": csrf,
                                                         "Origin": "http://evil.example"}).status_code == 403
    assert console.ctx.board.get(console.agent.id).state.value == "offline"  # none of those changed anything
    ok = c.put(path, json={"status": "away"}, headers={"X-CSRF-Token": csrf, "Origin": console.base})
    assert ok.status_code == 200 and ok.json()["state"] == "away"
    admin_only = c.post("/api/v1/agents", json={"name": "X", "username": "x1", "password": PASSWORD},
                        headers={"X-CSRF-Token": csrf})
    assert admin_only.status_code == 403  # a console session is an agent, nothing more
    with console.client(Authorization=f"Bearer {console.key}") as admin:  # API keys need no CSRF token
        assert admin.put(path, json={"status": "offline"}).status_code == 200


def test_logout_needs_the_token_then_ends_the_session(console):
    c, csrf = console.login()
    token = c.cookies[COOKIE]
    assert c.post("/console/logout").status_code == 403
    assert c.get("/console/session").status_code == 200
    out = c.post("/console/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204 and f'{COOKIE}=""' in out.headers["set-cookie"]
    replay = console.client(Cookie=f"{COOKIE}={token}")
    assert replay.get("/console/session").status_code == 401
    assert replay.get(f"/api/v1/agents/{console.agent.id}").status_code == 401


def test_deleting_the_agent_ends_their_sessions(console):
    c, _ = console.login()
    with console.client(Authorization=f"Bearer {console.key}") as admin:
        assert admin.delete(f"/api/v1/agents/{console.agent.id}").status_code == 204
    assert c.get("/console/session").status_code == 401


def ws_url(console: Console, after: int = 0) -> str:
    return console.base.replace("http", "ws") + f"/console/ws?after={after}"


def close_code(url: str, headers: dict[str, str]) -> int | None:
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        try:
            ws.recv(timeout=10)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
    return None


def test_feed_socket_needs_a_session_from_this_site(console):
    c, _ = console.login()
    cookie = f"{COOKIE}={c.cookies[COOKIE]}"
    assert close_code(ws_url(console), {}) == 4401
    assert close_code(ws_url(console), {"Cookie": cookie, "Origin": "http://evil.example"}) == 4401
    with connect(ws_url(console), additional_headers={"Cookie": cookie, "Origin": console.base}) as ws:
        hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "hello" and hello["agent"]["id"] == console.agent.id
    assert hello["presence"] == "offline" and hello["last_id"] == 0 and hello["epoch"]


def call_row(console: Console, call_id: str, events: list[tuple[str, dict[str, Any]]]) -> None:
    store = console.ctx.store
    store.calls.create(call_id, f"sip-{call_id}", "+380441234567", None, "+380440000000", "uk")
    for kind, data in events:
        store.calls.add_event(call_id, kind, data)


def test_wrapup_is_stored_on_the_call_and_its_interaction(console):
    call_row(console, "call-a", [("offered", {"agent_id": console.agent.id})])
    call_row(console, "call-b", [("offered", {"agent_id": "someone-else"})])
    c, csrf = console.login()
    body = {"tags": ["card", " limit ", "card"], "outcome": "resolved", "notes": "raised the limit"}
    assert c.post("/api/v1/calls/call-a/wrapup", json=body).status_code == 403  # no CSRF token
    assert c.post("/api/v1/calls/call-b/wrapup", json=body, headers={"X-CSRF-Token": csrf}).status_code == 403
    # an unknown call is not the agent's either: 403, so an agent cannot probe which call ids exist
    assert c.post("/api/v1/calls/nope/wrapup", json=body, headers={"X-CSRF-Token": csrf}).status_code == 403
    bad = c.post("/api/v1/calls/call-a/wrapup", json={**body, "outcome": ""}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422
    r = c.post("/api/v1/calls/call-a/wrapup", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["wrapup"]["tags"] == ["card", "limit"] and r.json()["wrapup"]["by"] == console.agent.id
    interaction = console.ctx.store.timeline.interaction_for_call("call-a")
    assert interaction is not None
    assert (interaction.tags, interaction.outcome, interaction.notes) == (["card", "limit"], "resolved",
                                                                          "raised the limit")
    with console.client(Authorization=f"Bearer {console.key}") as admin:
        timeline = admin.get("/api/v1/calls/call-a").json()["timeline"]
        assert [e["outcome"] for e in timeline if e["type"] == "wrapup"] == ["resolved"]
        assert admin.post("/api/v1/calls/call-b/wrapup", json=body).status_code == 200  # keys are not limited


def test_a_console_session_changes_only_its_own_status(console):
    other = console.ctx.store.agents.create("Boris", "boris", PASSWORD, "hotline")
    console.ctx.board.sync(other.info())
    c, csrf = console.login()
    headers = {"X-CSRF-Token": csrf}
    r = c.put(f"/api/v1/agents/{other.id}/status", json={"status": "away"}, headers=headers)
    assert r.status_code == 403 and "own" in r.json()["detail"]
    assert c.put(f"/api/v1/agents/{console.agent.id}/status", json={"status": "away"},
                 headers=headers).status_code == 200
