"""PostgreSQL goes down: callers still reach an agent, the API says why it cannot answer, nothing is lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from store.backlog import StoreUnavailableError
from store.calls import SegmentRecord
from store.store import Store
from tests.support.agents import create_agent, register_phone, wait_state
from tests.support.postgres import PostgresCluster, postgres_server
from tests.support.server import NO_AGENTS, ServerHandle, phone_call, start_server

PASSWORD = "agent-secret-1"


@pytest.fixture
def pg() -> Iterator[PostgresCluster]:
    with postgres_server() as cluster:
        yield cluster


async def _drained(store: Store, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while store.parked:
        assert time.monotonic() < deadline, f"{store.parked} write(s) still parked"
        await asyncio.sleep(0.1)


def _health(server: ServerHandle) -> dict[str, Any]:
    return dict(httpx.get(f"{server.http}/health", timeout=5).json())


def _wait_drained(server: ServerHandle, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (health := _health(server))["parked_writes"]:
        assert time.monotonic() < deadline, f"still parked after {timeout} s: {health}"
        time.sleep(0.2)
    return health


def test_store_parks_writes_while_postgres_is_down_and_replays_them_in_order(pg: PostgresCluster, tmp_path: Path):
    store = Store(pg.url, tmp_path / "spill.pickle", retry_s=0.2)
    store.migrate()

    async def scenario() -> None:
        assert await store.submit(store.calls.create, "up1", "sip-up", "+380441112233", None, "100", "uk") is True
        pg.stop("immediate")  # a crash: pooled connections die without notice
        assert await store.submit(store.calls.create, "dc1", "sip-1", "+380441234567", None, "100", "uk") is False
        first = SegmentRecord("caller", 0.1, 0.9, "first", 0.9)
        assert await store.submit(store.calls.add_segment, "dc1", first) is False
        assert await store.submit(store.calls.update, "dc1", state="ended", end_reason="caller_hangup") is False
        with pytest.raises(StoreUnavailableError) as refused:
            await store.run(store.calls.get, "dc1")  # nothing reads around parked writes
        assert refused.value.pending == 3 and refused.value.cause
        pg.start()
        await _drained(store)
        call = await store.run(store.calls.get, "dc1")
        assert call is not None and (call.state, call.end_reason) == ("ended", "caller_hangup")
        assert [s.text for s in await store.run(store.calls.transcript, "dc1")] == ["first"]

    try:
        asyncio.run(scenario())
    finally:
        store.close()
    assert not (tmp_path / "spill.pickle").exists()


def test_writes_still_parked_at_shutdown_are_spilled_and_stored_at_the_next_start(pg: PostgresCluster,
                                                                                  tmp_path: Path):
    spill = tmp_path / "spill.pickle"
    store = Store(pg.url, spill, retry_s=0.2)
    store.migrate()
    pg.stop()

    async def while_down() -> None:
        assert await store.submit(store.calls.create, "sp1", "sip-sp1", "+380441234567", None, "100", "uk") is False
        assert await store.submit(store.calls.add_event, "sp1", "queued", {"queue": "general"}) is False

    asyncio.run(while_down())
    store.close()
    assert spill.exists()
    pg.start()
    again = Store(pg.url, spill)
    try:
        assert again.restore_backlog() == 2 and not spill.exists()
        assert again.parked == 0
        assert again.calls.get("sp1") is not None
        assert [e["type"] for e in again.calls.events("sp1")] == ["queued"]
    finally:
        again.close()


def test_caller_reaches_an_agent_while_postgres_is_down_and_the_call_is_stored_when_it_is_back(
        pg: PostgresCluster, tmp_path: Path, speech_dir: Path):
    server = start_server(tmp_path / "srv", {"store": {"url": pg.url, "retry_s": 0.5}, "routing": {"wrap_up_s": 1}})
    phone = None
    try:
        with server.client() as c:
            agent = create_agent(c, "Agent Olha", "olha", PASSWORD, languages=[], skills=[])
        phone = register_phone(server, "olha", PASSWORD, "--auto-answer", "--play",
                               str(speech_dir / "ko_hello_8k.wav"))
        with server.client() as c:
            wait_state(c, agent["id"], "available")
        pg.stop("immediate")
        outcome = phone_call(server.sip_uri, speech_dir / "ko_two_8k.wav", "--hangup-after", "9")
        assert outcome["status"] == 200, outcome
        assert phone.wait("answered")["call_id"]  # the caller was bridged to the agent
        phone.wait("ended")
        with server.client() as c:
            refused = c.get("/api/v1/calls")
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "database_unavailable" and refused.headers["retry-after"]
        health = _health(server)
        assert health["database"] == "unavailable" and health["parked_writes"] > 0
        pg.start()
        assert _wait_drained(server)["database"] == "ok"
        with server.client() as c:
            calls = c.get("/api/v1/calls", params={"limit": 10}).json()["calls"]
            [call] = [x for x in calls if x["sip_call_id"] == outcome["call_id"]]
            assert (call["agent_id"], call["end_reason"]) == (agent["id"], "caller_hangup")
            segs = c.get(f"/api/v1/calls/{call['id']}/transcript").json()["segments"]
            kinds = [e["type"] for e in c.get(f"/api/v1/calls/{call['id']}").json()["timeline"]]
            customers = c.get("/api/v1/customers", params={"phone": call["caller_number"]}).json()
        assert {s["leg"] for s in segs} == {"caller", "agent"}, segs
        assert kinds.index("queued") < kinds.index("offered") < kinds.index("agent_connected")
        assert customers, "the call was not handed to the customer timeline"
        assert "parked for replay" in server.log()
    finally:
        if phone is not None:
            phone.stop()
        server.stop()


def test_a_server_stopped_during_the_outage_stores_the_call_at_its_next_start(pg: PostgresCluster, tmp_path: Path,
                                                                              speech_dir: Path):
    config = {**NO_AGENTS, "store": {"url": pg.url, "retry_s": 0.5}}
    server = start_server(tmp_path / "srv", config)
    try:
        pg.stop()
        outcome = phone_call(server.sip_uri, speech_dir / "ko_two_8k.wav")
        assert outcome["status"] == 200, outcome
        assert _health(server)["parked_writes"] > 0
    finally:
        server.stop()
    assert (tmp_path / "srv" / "store-backlog.json").exists()
    pg.start()
    server = start_server(tmp_path / "srv", config)
    try:
        with server.client() as c:
            calls = c.get("/api/v1/calls", params={"limit": 10}).json()["calls"]
            [call] = [x for x in calls if x["sip_call_id"] == outcome["call_id"]]
            segs = c.get(f"/api/v1/calls/{call['id']}/transcript").json()["segments"]
        assert call["end_reason"] == "caller_hangup" and len(segs) == 2
    finally:
        server.stop()
