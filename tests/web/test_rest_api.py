"""The REST / WebSocket API of a real running Hotline (the session ``server``), with real calls."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from app.config import Settings
from calls.bus import EventBus
from calls.context import AppContext
from core.events import CallStateChanged, FinalSegment, PartialSegment
from core.metrics import Metrics
from media.ports import PortAllocator
from store.store import Store
from tests.support.inproc import serve_in_thread
from tests.support.server import ServerHandle, phone_call
from web.app import create_app

DIALED = "0441234567"  # national format, default region UA


def ws_url(server: ServerHandle, call_id: str, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.http_port}/api/v1/calls/{call_id}/events{query}"


def collect(url: str, headers: dict[str, str] | None = None, timeout: float = 60,
            on_event: Any = None) -> tuple[list[dict[str, Any]], int | None]:
    """Every event until the server closes the socket; returns them and the close code."""
    events: list[dict[str, Any]] = []
    with connect(url, open_timeout=10, additional_headers=headers) as ws:
        try:
            while True:
                event = json.loads(ws.recv(timeout=timeout))
                events.append(event)
                if on_event is not None:
                    on_event(event)
        except ConnectionClosed as exc:
            return events, exc.rcvd.code if exc.rcvd is not None else None


def rejection(url: str) -> tuple[str, int | None]:
    """How a WebSocket the server refuses ends: ("http", status) or ("close", code)."""
    try:
        with connect(url, open_timeout=10) as ws:
            try:
                ws.recv(timeout=10)
            except ConnectionClosed as exc:
                return "close", exc.rcvd.code if exc.rcvd is not None else None
            return "message", None
    except InvalidStatus as exc:
        return "http", exc.response.status_code


def find_call(server: ServerHandle, sip_call_id: str) -> dict[str, Any]:
    with server.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
    match = [x for x in calls if x["sip_call_id"] == sip_call_id]
    assert len(match) == 1, match
    return match[0]


def transcript_texts(server: ServerHandle, call_id: str) -> list[str]:
    with server.client() as c:
        r = c.get(f"/api/v1/calls/{call_id}/transcript")
    assert r.status_code == 200
    return [s["text"] for s in r.json()["segments"]]


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture(scope="module")
def ended_call(server: ServerHandle, speech_dir) -> dict[str, Any]:
    """One finished real call (dialed in national format) as GET /calls/{id} shows it."""
    outcome = phone_call(f"sip:{DIALED}@127.0.0.1:{server.sip_port}", speech_dir / "ko_hello_8k.wav")
    assert outcome["status"] == 200, outcome
    call = find_call(server, outcome["call_id"])
    ended = server.wait_call_ended(call["id"])[0]
    assert ended["end_reason"] == "caller_hangup"
    assert ended["recognition"] == "ok"
    return ended


@dataclass
class Live:
    call_id: str
    events: list[dict[str, Any]]
    close_code: int | None
    first_partial_while_phone_running: bool
    outcome: dict[str, Any]


@pytest.fixture(scope="module")
def live(server: ServerHandle, speech_dir) -> Live:
    """A call watched over the WebSocket while it is in progress."""
    user = f"live-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(phone_call, f"sip:{user}@127.0.0.1:{server.sip_port}", speech_dir / "ko_two_8k.wav")
        call_id = None
        deadline = time.monotonic() + 30
        with server.client() as c:
            while call_id is None and time.monotonic() < deadline:
                assert not fut.done(), f"the call finished before it was seen: {fut.result()}"
                calls = c.get("/api/v1/calls", params={"number": user}).json()["calls"]
                active = [x for x in calls if x["state"] != "ended"]
                call_id = active[0]["id"] if active else None
                time.sleep(0.05)
        assert call_id is not None, "the live call never showed up in /api/v1/calls"
        seen: dict[str, bool] = {}

        def note(event: dict[str, Any]) -> None:
            if event["type"] == "partial" and "first_partial" not in seen:
                seen["first_partial"] = not fut.done()

        events, code = collect(ws_url(server, call_id, f"?token={server.key}"), on_event=note)
        outcome = fut.result(timeout=90)
    assert outcome["status"] == 200, outcome
    server.wait_call_ended(call_id)
    return Live(call_id, events, code, seen.get("first_partial", False), outcome)


# -- authentication ---------------------------------------------------------------------------


def test_health_needs_no_key(server):
    r = httpx.get(f"{server.http}/health", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["recognition"] == "ok"
    assert isinstance(body["active_calls"], int)


def _operations(server: ServerHandle) -> list[tuple[str, str]]:
    """Every (method, path template) of the API, from the app's own OpenAPI document, plus /metrics."""
    spec = httpx.get(f"{server.http}/openapi.json", timeout=10).json()
    ops = [(m.upper(), p) for p, item in spec["paths"].items() if p.startswith("/api/v1") for m in item]
    return [*ops, ("GET", "/metrics")]


def _fill(path: str, call_id: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "nosuchid", path.replace("{call_id}", call_id))


def test_every_api_endpoint_is_listed(server):
    """New endpoints must be added here on purpose: the next test checks each one needs a key."""
    assert sorted(_operations(server)) == sorted([
        ("DELETE", "/api/v1/agents/{agent_id}"),
        ("DELETE", "/api/v1/customers/{customer_id}/voiceprint"),
        ("GET", "/api/v1/agents"),
        ("GET", "/api/v1/agents/{agent_id}"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/calls"),
        ("GET", "/api/v1/calls/{call_id}"),
        ("GET", "/api/v1/calls/{call_id}/hints/feedback"),
        ("GET", "/api/v1/calls/{call_id}/transcript"),
        ("GET", "/api/v1/customers"),
        ("GET", "/api/v1/customers/{customer_id}"),
        ("GET", "/api/v1/customers/{customer_id}/cases"),
        ("GET", "/api/v1/customers/{customer_id}/timeline"),
        ("GET", "/api/v1/customers/{customer_id}/voiceprint"),
        ("GET", "/api/v1/queues"),
        ("GET", "/api/v1/webhooks/deliveries"),
        ("PATCH", "/api/v1/agents/{agent_id}"),
        ("PATCH", "/api/v1/cases/{case_id}"),
        ("PATCH", "/api/v1/customers/{customer_id}"),
        ("PATCH", "/api/v1/interactions/{interaction_id}"),
        ("POST", "/api/v1/agents"),
        ("POST", "/api/v1/calls/{call_id}/hints/{hint_id}/feedback"),
        ("POST", "/api/v1/calls/{call_id}/consult"),
        ("POST", "/api/v1/calls/{call_id}/consult/{action}"),
        ("POST", "/api/v1/calls/{call_id}/transfer"),
        ("POST", "/api/v1/calls/{call_id}/wrapup"),
        ("POST", "/api/v1/customers"),
        ("POST", "/api/v1/customers/{customer_id}/cases"),
        ("POST", "/api/v1/customers/{customer_id}/interactions"),
        ("POST", "/api/v1/customers/{customer_id}/merge"),
        ("POST", "/api/v1/customers/{customer_id}/voiceprint"),
        ("POST", "/api/v1/voiceprints/verify"),
        ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/redeliver"),
        ("PUT", "/api/v1/agents/{agent_id}/status"),
        ("PUT", "/api/v1/calls/{call_id}/customer"),
        ("GET", "/metrics"),
    ])


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer hk_00000000_wrong"}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}],
    ids=["no-key", "wrong-key", "empty-bearer", "basic"],
)
def test_api_and_metrics_need_a_valid_key(server, ended_call, headers):
    for method, template in _operations(server):
        path = _fill(template, ended_call["id"])
        r = httpx.request(method, f"{server.http}{path}", headers=headers, timeout=10)
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.headers.get("www-authenticate") == "Bearer", path
        if method == "GET" and not re.search(r"\{(?!call_id\})", template):
            # The same request with the real key works, so the 401 is about the key alone.
            ok = httpx.get(f"{server.http}{path}", headers={"Authorization": f"Bearer {server.key}"}, timeout=10)
            assert ok.status_code == 200, path


def test_unknown_call_is_404(server):
    with server.client() as c:
        for path in ("/api/v1/calls/nosuchcall", "/api/v1/calls/nosuchcall/transcript"):
            r = c.get(path)
            assert r.status_code == 404, path
            assert "nosuchcall" in r.json()["detail"]


# -- calls and transcripts ------------------------------------------------------------------------


def test_call_detail_and_transcript(server, ended_call):
    with server.client() as c:
        body = c.get(f"/api/v1/calls/{ended_call['id']}").json()
    assert body["id"] == ended_call["id"]
    assert (body["state"], body["codec"], body["language"]) == ("ended", "PCMU", "ko")
    assert body["answered_at"] and body["ended_at"]
    assert isinstance(body["timeline"], list)
    texts = transcript_texts(server, ended_call["id"])
    assert len(texts) == 1 and texts[0], texts  # one phrase, one non-empty final


def test_calls_pagination(server, ended_call, live):
    with server.client() as c:
        everything = c.get("/api/v1/calls", params={"limit": 500}).json()
        total = everything["total"]
        assert total >= 2
        assert total == len(everything["calls"])
        ids = [x["id"] for x in everything["calls"]]
        assert ended_call["id"] in ids and live.call_id in ids
        starts = [x["started_at"] for x in everything["calls"]]
        assert starts == sorted(starts, reverse=True)  # newest first
        paged = []
        for offset in range(total):
            page = c.get("/api/v1/calls", params={"limit": 1, "offset": offset}).json()
            assert (page["total"], page["limit"], page["offset"]) == (total, 1, offset)
            assert len(page["calls"]) == 1
            paged += [x["id"] for x in page["calls"]]
        assert paged == ids
        two = c.get("/api/v1/calls", params={"limit": 2, "offset": 0}).json()
        assert [x["id"] for x in two["calls"]] == ids[:2]
        past = c.get("/api/v1/calls", params={"limit": 10, "offset": total}).json()
        assert (past["total"], past["calls"]) == (total, [])
        assert c.get("/api/v1/calls", params={"limit": 0}).status_code == 422
        assert c.get("/api/v1/calls", params={"limit": 501}).status_code == 422
        assert c.get("/api/v1/calls", params={"offset": -1}).status_code == 422


def test_calls_filter_by_number(server, ended_call, live):
    called = ended_call["called_number"]
    caller = ended_call["caller_number"]
    assert called and caller
    with server.client() as c:
        by_called = c.get("/api/v1/calls", params={"number": called, "limit": 500}).json()
        assert ended_call["id"] in [x["id"] for x in by_called["calls"]]
        assert live.call_id not in [x["id"] for x in by_called["calls"]]
        assert by_called["total"] == len(by_called["calls"])
        assert all(called in (x["caller_number"], x["called_number"]) for x in by_called["calls"])
        by_caller = c.get("/api/v1/calls", params={"number": caller, "limit": 500}).json()
        assert {ended_call["id"], live.call_id} <= {x["id"] for x in by_caller["calls"]}
        assert all(caller in (x["caller_number"], x["called_number"]) for x in by_caller["calls"])
        nobody = c.get("/api/v1/calls", params={"number": "+10000000001"}).json()
        assert (nobody["total"], nobody["calls"]) == (0, [])


def test_called_number_is_e164(server, ended_call):
    assert ended_call["called_number"] == "+380441234567"
    with server.client() as c:
        found = c.get("/api/v1/calls", params={"number": "+380441234567", "limit": 500}).json()
    assert ended_call["id"] in [x["id"] for x in found["calls"]]


# -- metrics -----------------------------------------------------------------------------------------


def test_metrics(server, ended_call):
    with server.client() as c:
        r = c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = metric_samples(r.text)
    assert samples[("hotline_active_calls", ())] >= 0
    assert samples[("hotline_calls_ended_total", (("reason", "caller_hangup"),))] >= 1
    assert samples[("hotline_asr_real_time_factor", ())] > 0
    assert samples[("hotline_media_dropped_frames_total", ())] >= 0
    assert samples[("hotline_asr_final_latency_seconds_count", ())] >= 1


def test_metrics_count_recognized_audio(server, ended_call):
    with server.client() as c:
        samples = metric_samples(c.get("/metrics").text)
    assert samples[("hotline_asr_audio_seconds_total", ())] > 0


# -- WebSocket events ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?token=hk_00000000_wrong"], ids=["no-token", "wrong-token"])
def test_ws_without_valid_key_is_refused(server, ended_call, query):
    kind, code = rejection(ws_url(server, ended_call["id"], query))
    assert (kind, code) in (("http", 403), ("close", 4401))


def test_ws_unknown_call_is_refused(server):
    kind, code = rejection(ws_url(server, "nosuchcall", f"?token={server.key}"))
    assert (kind, code) in (("http", 403), ("close", 4404))


def test_ws_without_token_closes_4401(server, ended_call):
    assert rejection(ws_url(server, ended_call["id"])) == ("close", 4401)


def test_ws_unknown_call_closes_4404(server):
    assert rejection(ws_url(server, "nosuchcall", f"?token={server.key}")) == ("close", 4404)


def _check_call_events(events: list[dict[str, Any]], call_id: str, texts: list[str]) -> None:
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["call_id"] == call_id for e in events)
    states = [e["state"] for e in events if e["type"] == "state"]
    assert states[0] == "offered" and states[-1] == "ended"
    assert states.count("ended") == 1
    assert "connected" in states and states.index("connected") < len(states) - 1
    assert events[-1]["type"] == "state" and events[-1]["state"] == "ended"
    assert events[-1]["reason"] == "caller_hangup"
    assert [e["status"] for e in events if e["type"] == "recognition"] == ["ok"]
    finals = [e for e in events if e["type"] == "final"]
    assert texts and [f["text"] for f in finals] == texts
    assert all(f["leg"] == "caller" and f["words"] for f in finals)


@pytest.mark.parametrize("how", ["query", "header"])
def test_ws_replays_an_ended_call(server, ended_call, how):
    texts = transcript_texts(server, ended_call["id"])
    if how == "query":
        events, code = collect(ws_url(server, ended_call["id"], f"?token={server.key}"))
    else:
        events, code = collect(ws_url(server, ended_call["id"]), {"Authorization": f"Bearer {server.key}"})
    assert code == 1000
    _check_call_events(events, ended_call["id"], texts)


def test_ws_live_call(server, live):
    events = live.events
    assert live.close_code == 1000
    types = [e["type"] for e in events]
    assert "partial" in types
    assert types.index("partial") < types.index("final")
    assert live.first_partial_while_phone_running, "partials must stream while the caller is still talking"
    _check_call_events(events, live.call_id, transcript_texts(server, live.call_id))
    connected = next(e for e in events if e["type"] == "state" and e["state"] == "connected")
    assert connected["codec"] == "PCMU"
    assert events.index(connected) < types.index("partial")


def test_ws_reconnect_after_replays_only_later_events(server, live):
    second = live.events[1]["id"]
    events, code = collect(ws_url(server, live.call_id, f"?token={server.key}&after={second}"))
    assert code == 1000
    assert events and all(e["id"] > second for e in events)
    assert events == live.events[2:]
    none, code = collect(ws_url(server, live.call_id, f"?token={server.key}&after={live.events[-1]['id']}"))
    assert (none, code) == ([], 1000)


@pytest.fixture
def inproc(tmp_path) -> Iterator[tuple[str, AppContext, str]]:
    """The API app alone (no SIP, no engine) under uvicorn in a thread: (ws base URL, context, key).

    In-process so that a socket the app never closes cannot hold up the shared server's shutdown.
    """
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    agent = store.agents.create("Inproc Agent", "inproc", "inproc-secret-1", "hotline")
    key = store.keys.create("agent", agent_id=agent.id)  # the agent who took the stored calls below
    ctx = AppContext(Settings(), store, EventBus(), Metrics(), PortAllocator(40000, 40010))
    try:
        with serve_in_thread(create_app(ctx)) as base:
            yield base.replace("http://", "ws://"), ctx, key
    finally:
        store.close()


def _stored_ended_call(store: Store) -> str:
    call_id = uuid.uuid4().hex
    store.calls.create(call_id, f"{call_id}@earlier-run", "+380441234567", None, "+380440000000", "ko")
    owner = store.agents.by_username("inproc")
    store.calls.update(call_id, state="ended", end_reason="caller_hangup", agent_id=owner.id if owner else None)
    return call_id


def test_inproc_ws_replays_an_ended_bus_call(inproc):
    base, ctx, key = inproc
    call_id = _stored_ended_call(ctx.store)
    ctx.bus.publish(call_id, CallStateChanged(state="offered"))
    ctx.bus.publish(call_id, CallStateChanged(state="ended", reason="caller_hangup"))
    ctx.bus.close(call_id)
    events, code = collect(f"{base}/api/v1/calls/{call_id}/events?token={key}", timeout=5)
    assert code == 1000
    assert [(e["id"], e["state"]) for e in events] == [(1, "offered"), (2, "ended")]


def test_inproc_ws_for_a_stored_call_missing_from_the_bus_finishes(inproc):
    base, ctx, key = inproc
    call_id = _stored_ended_call(ctx.store)
    assert not ctx.bus.known(call_id)
    _, code = collect(f"{base}/api/v1/calls/{call_id}/events?token={key}", timeout=5)
    assert code is not None


def test_inproc_ws_redacts_transcript_text_by_role(inproc):
    base, ctx, key = inproc
    admin = ctx.store.keys.create("admin")
    call_id = _stored_ended_call(ctx.store)
    card = "my card is 4111 1111 1111 1111 thanks"
    ctx.bus.publish(call_id, FinalSegment(leg="caller", start=0.0, end=1.0, text=card, confidence=1.0, words=[]))
    ctx.bus.publish(call_id, PartialSegment(leg="caller", text="my card is 4111 1111 11"))
    ctx.bus.close(call_id)
    events, _ = collect(f"{base}/api/v1/calls/{call_id}/events?token={key}", timeout=5)
    texts = [e["text"] for e in events]
    assert texts[0] == "my card is [CARD] thanks" and "4111" not in texts[1]
    raw, _ = collect(f"{base}/api/v1/calls/{call_id}/events?token={admin}&raw=true", timeout=5)
    assert raw[0]["text"] == card
    refused, code = collect(f"{base}/api/v1/calls/{call_id}/events?token={key}&raw=true", timeout=5)
    assert (refused, code) == ([], 4403)
