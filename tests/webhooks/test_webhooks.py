"""Webhook delivery to a real receiver on loopback that is down first and up later: in-process worker, and a
real ``hotline serve`` killed in the middle and started again on the same database."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from profiles.records import InteractionDraft
from store.outbox import DeliveryRecord, list_deliveries
from store.store import Store
from tests.support.net import free_port
from tests.support.server import ServerHandle, run_cli, start_server
from tests.support.webhook_receiver import Behaviour, Received, WebhookReceiver
from webhooks.settings import WebhookSettings
from webhooks.worker import WebhookWorker, backoff_delay, event_body, sign, signature_matches

pytest_plugins = ["tests.support.databases"]  # any_store, sqlite_store (SQLite / PostgreSQL)

SECRET = "whsec-test-5d1c"


def tcp_port() -> int:
    return free_port(socket.SOCK_STREAM, both=False)


def settings_for(url: str, **overrides: Any) -> WebhookSettings:
    values: dict[str, Any] = {"targets": [{"url": url, "secret": SECRET}], "poll_interval_s": 0.05,
                              "backoff_base_s": 0.05, "backoff_max_s": 0.2, "timeout_s": 0.5, "max_attempts": 1000}
    return WebhookSettings.model_validate(values | overrides)


def check_arrivals(received: list[Received], expected_keys: set[str]) -> dict[str, list[Received]]:
    """Every expected event was accepted; every request is signed, its key is its body's id, and repeats of a
    key carry the same bytes."""
    by_key: dict[str, list[Received]] = defaultdict(list)
    for r in received:
        assert signature_matches(r.body, SECRET, r.headers.get("x-hotline-signature")), r.headers
        body = r.json()
        assert r.headers["idempotency-key"] == body["id"]
        assert r.headers["x-hotline-event"] == body["kind"]
        assert r.headers["content-type"] == "application/json"
        by_key[body["id"]].append(r)
    assert set(by_key) == expected_keys
    for key, copies in by_key.items():
        assert len({c.body for c in copies}) == 1, key
        assert any(c.status == 200 for c in copies), key
    return by_key


# -- pieces --------------------------------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_the_raw_body():
    body = b"The quick brown fox jumps over the lazy dog"
    assert sign(body, "key") == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert signature_matches(body, "key", sign(body, "key"))
    assert not signature_matches(body + b" ", "key", sign(body, "key"))
    assert not signature_matches(body, "other", sign(body, "key"))
    assert not signature_matches(body, "key", None)


def test_event_body_is_the_same_bytes_every_time():
    from datetime import UTC, datetime

    d = DeliveryRecord(1, "interaction.created:abc", "interaction.created", {"b": 1, "a": "ї"}, "http://x/",
                       "pending", 3, datetime(2026, 1, 1, tzinfo=UTC), None, datetime(2026, 1, 1, tzinfo=UTC), None)
    body = event_body(d)
    assert body == event_body(d)
    assert json.loads(body) == {"id": "interaction.created:abc", "kind": "interaction.created",
                                "created_at": "2026-01-01T00:00:00+00:00", "data": {"a": "ї", "b": 1}}


@pytest.mark.parametrize(("attempt", "low", "high"), [(1, 1.0, 2.0), (2, 2.0, 4.0), (4, 8.0, 16.0), (9, 30.0, 60.0),
                                                      (500, 30.0, 60.0)])
def test_backoff_doubles_is_capped_and_jittered(attempt, low, high):
    assert backoff_delay(attempt, 2.0, 60.0, rand=lambda: 0.0) == low
    assert backoff_delay(attempt, 2.0, 60.0, rand=lambda: 1.0) == high
    assert low <= backoff_delay(attempt, 2.0, 60.0) <= high


def test_settings_refuse_bad_targets():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="http"):
        WebhookSettings.model_validate({"targets": [{"url": "ftp://x", "secret": "s"}]})
    with pytest.raises(ValidationError, match="same url"):
        WebhookSettings.model_validate({"targets": [{"url": "http://x", "secret": "s"},
                                                    {"url": "http://x", "secret": "t"}]})
    with pytest.raises(ValidationError, match="backoff_max_s"):
        WebhookSettings(backoff_base_s=10, backoff_max_s=1)
    assert "s3cr3t" not in repr(WebhookSettings.model_validate({"targets": [{"url": "http://x", "secret": "s3cr3t"}]}))


# -- the worker against a receiver that is down, then flaky, then up ------------------------------------------


async def until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def deliveries(store: Store, status: str | None = None) -> list[DeliveryRecord]:
    return list_deliveries(store.sessions, status, 1000)[1]


def make_events(store: Store) -> set[str]:
    c = store.customers.create_profile("C", [], external_id="crm-9")
    first = store.timeline.add_interaction(InteractionDraft(c.id, "chat", summary="card 4111 1111 1111 1111"))
    second = store.timeline.add_interaction(InteractionDraft(c.id, "email"))
    store.timeline.update_interaction(first.id, {"outcome": "resolved", "csi": 5})
    case = store.timeline.create_case(c.id, "Dispute")
    return {f"interaction.created:{first.id}", f"interaction.created:{second.id}",
            f"interaction.updated:{first.id}:v2", f"case.created:{case.id}"}


async def test_down_then_flaky_then_up_delivers_everything_once_per_key(sqlite_store):
    port = tcp_port()
    receiver = WebhookReceiver(port)
    settings = settings_for(receiver.url)
    sqlite_store.outbox.configure(settings.targets)
    keys = make_events(sqlite_store)
    worker = WebhookWorker(settings, sqlite_store)
    worker.start()
    try:
        # Down: the port is closed. Every row is tried, fails, and waits with its error.
        await until(lambda: all(d.attempts >= 2 and d.last_error for d in deliveries(sqlite_store)))
        assert {d.status for d in deliveries(sqlite_store)} == {"pending"}
        assert "Connect" in deliveries(sqlite_store)[0].last_error
        # Up, but 503 twice, and one event is processed yet answered too late (the worker gives up and retries).
        slow = next(k for k in keys if k.startswith("interaction.updated"))
        receiver.behaviour = Behaviour(fail_first=2, slow_once={slow}, slow_s=1.5)
        receiver.start()
        await until(lambda: len(deliveries(sqlite_store, "delivered")) == len(keys))
    finally:
        await worker.stop()
        receiver.stop()
    by_key = check_arrivals(receiver.received, keys)
    assert len(by_key[slow]) >= 2  # the late one came again, with the same key
    assert [r.status for r in receiver.received[:2]] == [503, 503]
    for d in deliveries(sqlite_store):
        assert d.delivered_at is not None and d.last_error is None and d.attempts >= 2
    summary = json.loads(next(r.body for r in receiver.received if r.headers["x-hotline-event"] ==
                              "interaction.created" and b"summary" in r.body and b"CARD" in r.body))
    assert "4111" not in json.dumps(summary)  # what left Hotline was redacted


async def test_gives_up_after_max_attempts_and_keeps_the_row(sqlite_store):
    settings = settings_for(f"http://127.0.0.1:{tcp_port()}/closed", max_attempts=3)
    sqlite_store.outbox.configure(settings.targets)
    c = sqlite_store.customers.create_profile("C", [])
    sqlite_store.timeline.add_interaction(InteractionDraft(c.id, "branch"))
    worker = WebhookWorker(settings, sqlite_store)
    worker.start()
    try:
        await until(lambda: len(deliveries(sqlite_store, "failed")) == 1)
        await asyncio.sleep(0.3)
    finally:
        await worker.stop()
    (failed,) = deliveries(sqlite_store)
    assert (failed.status, failed.attempts, failed.delivered_at) == ("failed", 3, None)
    assert "Connect" in (failed.last_error or "")


async def test_a_row_for_a_target_no_longer_configured_fails_with_the_reason(sqlite_store):
    old = settings_for("http://127.0.0.1:9/removed")
    sqlite_store.outbox.configure(old.targets)
    c = sqlite_store.customers.create_profile("C", [])
    sqlite_store.timeline.add_interaction(InteractionDraft(c.id, "chat"))
    worker = WebhookWorker(settings_for("http://127.0.0.1:9/another"), sqlite_store)
    worker.start()
    try:
        await until(lambda: len(deliveries(sqlite_store, "failed")) == 1)
    finally:
        await worker.stop()
    assert "no webhook target" in (deliveries(sqlite_store)[0].last_error or "")


# -- a real Hotline, killed with deliveries pending and in flight, started again --------------------------------


def hotline_with_webhooks(workdir: Path, url: str, db_url: str | None = None) -> ServerHandle:
    config: dict[str, Any] = {
        "asr": {"enabled": False},
        "webhooks": {"targets": [{"url": url, "secret": SECRET}], "poll_interval_s": 0.1, "backoff_base_s": 0.1,
                     "backoff_max_s": 0.5, "timeout_s": 1.0, "max_attempts": 1000},
    }
    if db_url is not None:
        config["store"] = {"url": db_url}
    return start_server(workdir, config)


def all_attempted(server: ServerHandle, count: int) -> bool:
    with server.client() as c:
        rows = c.get("/api/v1/webhooks/deliveries").json()["deliveries"]
    return len(rows) == count and all(r["attempts"] >= 1 and r["last_error"] for r in rows)


def wait(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_restart_in_the_middle_loses_nothing(tmp_path):
    receiver = WebhookReceiver(tcp_port())
    first = hotline_with_webhooks(tmp_path / "first", receiver.url)
    second = None
    try:
        crm = run_cli("keys", "create", "--role", "integration", "--db", first.db_url).stdout.split()[-1]
        keys: set[str] = set()
        with first.client(crm) as c:
            cust = c.post("/api/v1/customers", json={"name": "Olena", "phones": ["0441234567"],
                                                     "external_id": "crm-1"}).json()
            for channel in ("chat", "email", "branch"):
                r = c.post(f"/api/v1/customers/{cust['id']}/interactions", json={"channel": channel})
                assert r.status_code == 201, r.text
                keys.add(f"interaction.created:{r.json()['id']}")
            r = c.patch(f"/api/v1/interactions/{r.json()['id']}", json={"outcome": "resolved", "csi": 4})
            keys.add(f"interaction.updated:{r.json()['id']}:v2")
            case = c.post(f"/api/v1/customers/{cust['id']}/cases", json={"title": "Dispute"}).json()
            keys.add(f"case.created:{case['id']}")
        # The receiver is down: every delivery is tried and waits for its next attempt.
        wait(lambda: all_attempted(first, len(keys)))
        # Up, but hanging: requests arrive and are never answered in time. Kill Hotline while they are in flight.
        receiver.behaviour = Behaviour(slow_all=True, slow_s=3.0)
        receiver.start()
        receiver.wait_for(lambda r: len(r.received) >= 1)
        first.proc.kill()
        first.proc.wait(10)
        # Hotline comes back on the same database; the receiver now fails twice, then answers at once.
        receiver.behaviour = Behaviour(fail_first=2)
        second = hotline_with_webhooks(tmp_path / "second", receiver.url, first.db_url)
        receiver.wait_for(lambda r: {x.json()["id"] for x in r.accepted()} >= keys, timeout=30)
        with second.client() as c:
            wait(lambda: c.get("/api/v1/webhooks/deliveries", params={"status": "delivered"}).json()["total"]
                 == len(keys))
            assert c.get("/api/v1/webhooks/deliveries", params={"status": "pending"}).json()["total"] == 0
    finally:
        for server in (first, second):
            if server is not None:
                server.stop()
        receiver.stop()
    by_key = check_arrivals(receiver.received, keys)
    assert sum(len(v) for v in by_key.values()) > len(keys)  # some arrived twice: always with the same key
    created = next(r.json() for r in receiver.accepted() if r.json()["kind"] == "interaction.created")
    assert created["data"]["customer_external_id"] == "crm-1"
    assert "Olena" not in json.dumps(created) and "+380441234567" not in json.dumps(created)
