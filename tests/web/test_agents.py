"""The agents REST API: through a real ``hotline serve``, and in-process where the board must be driven."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from callcenter.agents import verify_password
from callcenter.presence import AgentState
from calls.bus import EventBus
from calls.context import AppContext
from core.metrics import Metrics
from media.ports import PortAllocator
from store.agents import load_board
from store.store import Store
from tests.support.agents import stored_agent_row
from tests.support.inproc import serve_in_thread
from tests.support.keys import make_key
from tests.support.server import ServerHandle, start_server
from web.app import create_app

PASSWORD = "correct horse 42"
RECORD_KEYS = {"id", "name", "username", "languages", "skills", "realm", "created_at", "state", "state_since",
               "time_in_state_s", "registered"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A real server of its own (no recognition: agents need none), so agent lists start empty."""
    handle = start_server(tmp_path_factory.mktemp("agents"), {"asr": {"enabled": False}})
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def keys(srv: ServerHandle) -> dict[str, str]:
    """One key per role."""
    out = {"admin": srv.key}
    for role in ("agent", "supervisor", "security", "integration"):
        out[role] = make_key(srv, role)
    return out


def unique(prefix: str = "agent") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def create(c: httpx.Client, **over: Any) -> dict[str, Any]:
    body = {"name": "Olena Kovalenko", "username": unique(), "password": PASSWORD, "languages": ["uk", "ru"],
            "skills": ["cards", "loans"], **over}
    r = c.post("/api/v1/agents", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_create_returns_the_record_and_live_state_without_secrets(srv):
    with srv.client() as c:
        r = c.post("/api/v1/agents", json={"name": " Olena ", "username": "olena.k", "password": PASSWORD,
                                           "languages": ["uk", "ru", "uk"], "skills": ["cards"]})
    assert r.status_code == 201, r.text
    rec = r.json()
    assert set(rec) == RECORD_KEYS
    assert (rec["name"], rec["username"], rec["languages"], rec["skills"]) == ("Olena", "olena.k", ["uk", "ru"],
                                                                               ["cards"])
    assert (rec["state"], rec["registered"], rec["realm"]) == ("offline", False, "hotline")
    assert 0 <= rec["time_in_state_s"] < 30
    assert abs(datetime.fromisoformat(rec["state_since"]) - datetime.now(UTC)) < timedelta(seconds=30)
    row = stored_agent_row(srv.db_url, agent_id=rec["id"])
    for secret in (PASSWORD, row.password_hash, row.ha1, "argon2", "password", "ha1"):
        assert secret not in r.text


def test_stored_hashes_are_argon2id_and_the_sip_ha1(srv):
    with srv.client() as c:
        rec = create(c, username="petro")
    row = stored_agent_row(srv.db_url, agent_id=rec["id"])
    assert row.password_hash.startswith("$argon2id$")
    assert verify_password(row.password_hash, PASSWORD)
    assert not verify_password(row.password_hash, PASSWORD + "x")
    assert row.ha1 == hashlib.md5(f"petro:hotline:{PASSWORD}".encode()).hexdigest()
    assert row.ha1_realm == "hotline"
    store = Store(srv.db_url)
    try:
        assert store.agents.credentials()["petro"] == (row.ha1, "hotline")
        who = store.agents.check_password("petro", PASSWORD)
        assert who is not None and who.id == rec["id"]
        assert store.agents.check_password("petro", "wrong password") is None
        assert store.agents.check_password("nobody", PASSWORD) is None
    finally:
        store.close()


@pytest.mark.parametrize("role", ["admin", "agent", "security"])
def test_reading_roles_list_and_get(srv, keys, role):
    with srv.client() as c:
        rec = create(c)
    with srv.client(keys[role]) as c:
        listed = c.get("/api/v1/agents")
        one = c.get(f"/api/v1/agents/{rec['id']}")
    assert listed.status_code == 200
    mine = [a for a in listed.json()["agents"] if a["id"] == rec["id"]]
    assert len(mine) == 1 and set(mine[0]) == RECORD_KEYS
    names = [a["name"] for a in listed.json()["agents"]]
    assert names == sorted(names)
    assert one.status_code == 200 and one.json()["username"] == rec["username"]


def test_roles_that_may_not(srv, keys):
    with srv.client() as c:
        rec = create(c)
    path = f"/api/v1/agents/{rec['id']}"
    with srv.client(keys["agent"]) as c:
        assert c.post("/api/v1/agents", json={"name": "x", "username": unique(), "password": PASSWORD}
                      ).status_code == 403
        assert c.patch(path, json={"name": "Renamed"}).status_code == 403
        assert c.delete(path).status_code == 403
    with srv.client(keys["security"]) as c:
        assert c.put(f"{path}/status", json={"status": "away"}).status_code == 403
    with srv.client(keys["integration"]) as c:
        assert c.get("/api/v1/agents").status_code == 403
    with srv.client() as c:
        assert c.get(path).json()["name"] == rec["name"]  # nothing changed


def test_duplicate_username_is_409(srv):
    with srv.client() as c:
        first = create(c)
        second = create(c)
        r = c.post("/api/v1/agents", json={"name": "Other", "username": first["username"], "password": PASSWORD})
        assert r.status_code == 409
        assert first["username"] in r.json()["detail"]
        r = c.patch(f"/api/v1/agents/{second['id']}", json={"username": first["username"], "password": PASSWORD})
        assert r.status_code == 409
        assert c.get(f"/api/v1/agents/{second['id']}").json()["username"] == second["username"]


def test_unknown_agent_is_404(srv):
    with srv.client() as c:
        for method, suffix, body in (("GET", "", None), ("PATCH", "", {"name": "x"}), ("DELETE", "", None),
                                     ("PUT", "/status", {"status": "away"})):
            r = c.request(method, f"/api/v1/agents/nosuchagent{suffix}", json=body)
            assert r.status_code == 404, (method, suffix, r.text)
            assert "nosuchagent" in r.json()["detail"]


@pytest.mark.parametrize(("field", "value"), [
    ("username", "has space"), ("username", ""), ("username", "x" * 65), ("username", "olena@bank"),
    ("password", "s3cr3t!"), ("languages", ["ukr"]), ("languages", ["UK"]), ("languages", ["xx"]),
    ("skills", ["Cards"]), ("skills", ["car loans"]), ("name", "   "),
])
def test_invalid_fields_are_422_naming_the_field(srv, field, value):
    body = {"name": "Olena", "username": unique(), "password": PASSWORD, field: value}
    with srv.client() as c:
        r = c.post("/api/v1/agents", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"][:2] == ["body", field]  # a list item adds its index
        if field == "password":
            assert value not in r.text
        listed = c.get("/api/v1/agents").json()["agents"]
    assert body["username"] not in [a["username"] for a in listed]


def test_patch_changes_fields_and_a_new_password_remakes_both_hashes(srv):
    with srv.client() as c:
        rec = create(c)
        before = stored_agent_row(srv.db_url, agent_id=rec["id"])
        r = c.patch(f"/api/v1/agents/{rec['id']}", json={"name": "Olena K", "skills": ["mortgage"]})
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["skills"], r.json()["languages"]) == ("Olena K", ["mortgage"], ["uk", "ru"])
        assert stored_agent_row(srv.db_url, agent_id=rec["id"]).ha1 == before.ha1

        r = c.patch(f"/api/v1/agents/{rec['id']}", json={"username": unique()})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "password"]

        new_user = unique()
        r = c.patch(f"/api/v1/agents/{rec['id']}", json={"username": new_user, "password": "another secret"})
        assert r.status_code == 200 and r.json()["username"] == new_user
    after = stored_agent_row(srv.db_url, agent_id=rec["id"])
    assert after.password_hash != before.password_hash
    assert verify_password(after.password_hash, "another secret")
    assert not verify_password(after.password_hash, PASSWORD)
    assert after.ha1 == hashlib.md5(f"{new_user}:hotline:another secret".encode()).hexdigest()


def test_status_changes_follow_presence_rules(srv, keys):
    with srv.client() as c:
        rec = create(c)
    status = f"/api/v1/agents/{rec['id']}/status"
    with srv.client(keys["agent"]) as c:  # an agent key not bound to this agent changes nobody's status
        assert c.put(status, json={"status": "away"}).status_code == 403
    with srv.client(keys["supervisor"]) as c:
        r = c.put(status, json={"status": "available"})
        assert r.status_code == 409
        assert r.json()["detail"] == (f"agent {rec['id']}: cannot go from offline to available: "
                                      "no registered phone")
        r = c.put(status, json={"status": "away"})
        assert r.status_code == 200 and r.json()["state"] == "away"
        assert r.json()["time_in_state_s"] < 5
        assert c.put(status, json={"status": "available"}).status_code == 409
        for bad in ("on_call", "ringing", "busy"):
            assert c.put(status, json={"status": bad}).status_code == 422
        r = c.put(status, json={"status": "offline"})
        assert r.status_code == 200 and r.json()["state"] == "offline"
        assert c.get(f"/api/v1/agents/{rec['id']}").json()["state"] == "offline"


def test_delete(srv):
    with srv.client() as c:
        rec = create(c)
        r = c.delete(f"/api/v1/agents/{rec['id']}")
        assert r.status_code == 204 and r.content == b""
        assert c.get(f"/api/v1/agents/{rec['id']}").status_code == 404
        assert rec["id"] not in [a["id"] for a in c.get("/api/v1/agents").json()["agents"]]
        assert c.delete(f"/api/v1/agents/{rec['id']}").status_code == 404


# -- in-process: the board and the hook, driven directly -------------------------------------------


@pytest.fixture
def app(tmp_path) -> Iterator[tuple[httpx.Client, AppContext, list[str]]]:
    """The API alone with an admin key; the list records each on_agents_changed call."""
    store = Store(f"sqlite:///{tmp_path / 'agents.db'}")
    store.migrate()
    key = store.keys.create("admin")
    calls: list[str] = []
    ctx = AppContext(Settings(), store, EventBus(), Metrics(), PortAllocator(40000, 40010),
                     on_agents_changed=lambda: calls.append("changed"))
    with serve_in_thread(create_app(ctx)) as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        yield client, ctx, calls
    store.close()


def test_changes_reach_the_board_and_the_hook(app):
    client, ctx, calls = app
    rec = client.post("/api/v1/agents", json={"name": "Olena", "username": "olena", "password": PASSWORD,
                                              "skills": ["cards"]}).json()
    agent = ctx.board.get(rec["id"])
    assert (agent.username, agent.skills, agent.state, calls) == ("olena", ("cards",), AgentState.OFFLINE,
                                                                  ["changed"])
    client.patch(f"/api/v1/agents/{rec['id']}", json={"name": "Olena K", "languages": ["uk"]})
    assert (ctx.board.get(rec["id"]).name, ctx.board.get(rec["id"]).languages) == ("Olena K", ("uk",))
    assert len(calls) == 2
    assert client.delete(f"/api/v1/agents/{rec['id']}").status_code == 204
    assert ctx.board.find(rec["id"]) is None and len(calls) == 3
    assert client.post("/api/v1/agents", json={"name": "Bad", "username": "b", "password": "short"}
                       ).status_code == 422
    assert len(calls) == 3  # refused changes announce nothing


def test_a_failing_hook_does_not_fail_the_change(app):
    client, ctx, _ = app

    def broken() -> None:
        raise RuntimeError("reload failed")

    ctx.on_agents_changed = broken
    r = client.post("/api/v1/agents", json={"name": "Olena", "username": "olena", "password": PASSWORD})
    assert r.status_code == 201 and ctx.board.find(r.json()["id"]) is not None


def test_registration_shows_and_allows_available(app):
    client, ctx, _ = app
    rec = client.post("/api/v1/agents", json={"name": "Olena", "username": "olena", "password": PASSWORD}).json()
    ctx.board.registered("olena", True)
    view = client.get(f"/api/v1/agents/{rec['id']}").json()
    assert (view["state"], view["registered"]) == ("available", True)
    assert client.put(f"/api/v1/agents/{rec['id']}/status", json={"status": "away"}).json()["state"] == "away"
    r = client.put(f"/api/v1/agents/{rec['id']}/status", json={"status": "available"})
    assert r.status_code == 200 and r.json()["state"] == "available"


@pytest.mark.parametrize("busy", [AgentState.RINGING, AgentState.ON_CALL])
def test_delete_is_refused_during_a_call(app, busy):
    client, ctx, calls = app
    rec = client.post("/api/v1/agents", json={"name": "Olena", "username": "olena", "password": PASSWORD}).json()
    ctx.board.registered("olena", True)
    agent = ctx.board.get(rec["id"])
    ctx.board.move(agent, AgentState.RINGING)
    agent.call_id = "call-7"
    if busy == AgentState.ON_CALL:
        ctx.board.move(agent, AgentState.ON_CALL)
    r = client.delete(f"/api/v1/agents/{rec['id']}")
    assert r.status_code == 409
    assert busy.value in r.json()["detail"] and "call-7" in r.json()["detail"]
    assert ctx.board.find(rec["id"]) is agent and len(calls) == 1
    assert client.get(f"/api/v1/agents/{rec['id']}").status_code == 200
    if busy == AgentState.ON_CALL:
        ctx.board.move(agent, AgentState.WRAP_UP)
        assert client.delete(f"/api/v1/agents/{rec['id']}").status_code == 204


def test_board_follows_changes_made_outside_the_api(app):
    client, ctx, calls = app
    first = ctx.store.agents.create("Olena", "olena", PASSWORD, "hotline", ["uk"], [])
    second = ctx.store.agents.create("Petro", "petro", PASSWORD, "hotline", [], ["loans"])
    assert load_board(ctx.store.agents, ctx.board) is True
    assert [a.username for a in ctx.board.all()] == ["olena", "petro"]
    assert load_board(ctx.store.agents, ctx.board) is False
    ctx.store.agents.delete(first.id)  # e.g. `hotline agents remove` while the server runs
    listed = client.get("/api/v1/agents").json()["agents"]
    assert [a["id"] for a in listed] == [second.id]
    assert ctx.board.find(first.id) is None and calls == ["changed"]
