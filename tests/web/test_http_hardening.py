"""HTTP hardening on the API served in-process: body limits before authentication, security headers,
sessions ended by a credential change, account lockout, the Secure cookie behind a trusted proxy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from calls.bus import EventBus
from calls.context import AppContext
from console.sessions import COOKIE
from core.metrics import Metrics
from media.ports import PortAllocator
from store.agents import AgentRecord
from store.store import Store
from tests.support.inproc import serve_in_thread
from tests.support.server import start_server
from web.app import create_app
from web.settings import HttpSettings

PASSWORD = "console-secret-1"


@dataclass
class Api:
    base: str
    key: str
    agent: AgentRecord

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def admin(self) -> httpx.Client:
        return self.client(Authorization=f"Bearer {self.key}")

    def login(self, password: str = PASSWORD, **headers: str) -> httpx.Response:
        with self.client(**headers) as c:
            return c.post("/console/login", json={"username": self.agent.username, "password": password})


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings.model_validate({"console": {"login_fail_limit": 100, "account_fail_limit": 3}})
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    key = store.keys.create("admin")
    agent = store.agents.create("Anna Petrenko", "anna", PASSWORD, "hotline")
    ctx = AppContext(settings, store, EventBus(), Metrics(), PortAllocator(40000, 40010))
    ctx.board.sync(agent.info())
    http = HttpSettings(max_body_bytes=64 * 1024, max_upload_bytes=256 * 1024)
    with serve_in_thread(create_app(ctx, settings.console, http)) as base:
        yield Api(base, key, agent)
    store.close()


def test_bodies_over_the_limit_are_refused_before_the_key_is_checked(api: Api) -> None:
    big = b"x" * (100 * 1024)
    with api.client() as c:  # no key at all: the size is refused first
        r = c.post("/api/v1/agents", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] == "too_large", r.text
        chunked = c.post("/api/v1/agents", content=iter([big[:40_000], big[40_000:]]),
                         headers={"content-type": "application/json"})  # no Content-Length: counted as it comes
        assert chunked.status_code == 413, chunked.text
        upload = c.post("/api/v1/voiceprints/verify", content=big, headers={"content-type": "application/json"})
        assert upload.status_code == 401  # the upload routes take more: this one reaches authentication
        huge = c.post("/api/v1/voiceprints/verify", content=big * 3, headers={"content-type": "application/json"})
        assert huge.status_code == 413


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    with api.client() as c:
        for r in (c.get("/api/v1/calls"), c.get("/health")):
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
            assert r.headers["cache-control"] == "no-store"
            assert "default-src 'none'" in r.headers["content-security-policy"]
        page = c.get("/console/")
        assert "script-src 'self'" in page.headers["content-security-policy"]  # the console keeps its own policy
        assert page.headers["x-frame-options"] == "DENY"


def test_a_password_change_ends_the_agents_console_sessions(api: Api) -> None:
    with api.client() as console:
        assert console.post("/console/login", json={"username": "anna", "password": PASSWORD}).status_code == 200
        assert console.get("/console/session").status_code == 200
        with api.admin() as admin:
            assert admin.patch(f"/api/v1/agents/{api.agent.id}", json={"name": "Anna P."}).status_code == 200
            assert console.get("/console/session").status_code == 200  # a new name is not a new credential
            changed = admin.patch(f"/api/v1/agents/{api.agent.id}", json={"password": "another-secret-2"})
            assert changed.status_code == 200
        assert console.get("/console/session").status_code == 401


def test_an_account_is_locked_after_failures_from_any_address_and_a_reset_unlocks_it(api: Api) -> None:
    for i in range(3):  # three addresses (the address limit is 100 here): the account limit is 3
        assert api.login("wrong-password", **{"x-forwarded-for": f"203.0.113.{i + 1}"}).status_code == 401
    locked = api.login()  # the right password, from a fresh address
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 60
    assert locked.json() == {"error": "too_many_requests", "detail": "too many failed logins; try again later"}
    with api.admin() as admin:
        assert admin.patch(f"/api/v1/agents/{api.agent.id}", json={"password": "reset-by-admin-3"}).status_code == 200
    assert api.login("reset-by-admin-3").status_code == 200


def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(api: Api) -> None:
    r = api.login(**{"x-forwarded-proto": "https"})  # from 127.0.0.1, which uvicorn trusts by default here
    assert r.status_code == 200
    assert "secure" in r.headers["set-cookie"].lower() and r.headers["strict-transport-security"]
    assert "secure" not in api.login().headers["set-cookie"].lower()  # plain http: no Secure flag


def test_an_untrusted_proxy_cannot_claim_https(tmp_path: Path) -> None:
    server = start_server(tmp_path, {"asr": {"enabled": False}, "http": {"trusted_proxies": []}})
    try:
        with server.client() as c:
            c.post("/api/v1/agents", json={"name": "Olga", "username": "olga", "password": PASSWORD})
        r = httpx.post(f"{server.http}/console/login", json={"username": "olga", "password": PASSWORD},
                       headers={"x-forwarded-proto": "https"})
        assert r.status_code == 200 and COOKIE in r.headers["set-cookie"]
        assert "secure" not in r.headers["set-cookie"].lower()  # the header came from nobody we trust
    finally:
        server.stop()
