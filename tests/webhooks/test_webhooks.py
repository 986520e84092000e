"""Webhook delivery to a real receiver on loopback that is down first and up later: in-process worker, and a
real ``hotline serve`` killed in the middle and started again on the same database. Also the signature (timestamp
and body, checked the way a CRM checks it) and the settings a server refuses to start with (plain http to a host
not allowed, short secrets)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError

from profiles.records import InteractionDraft
from store.outbox import DeliveryRecord, list_deliveries
from store.store import Store
from tests.support.net import free_port
from tests.support.server import ServerHandle, run_cli, start_server
from tests.support.webhook_receiver import Behaviour, Received, WebhookReceiver
from webhooks.settings import MIN_SECRET_LENGTH, WebhookSettings
from webhooks.signing import sign, signature_matches
from webhooks.worker import WebhookWorker, backoff_delay, event_body

pytest_plugins = ["tests.support.databases"]  # any_store, sqlite_store (SQLite / PostgreSQL)

SECRET = "whsec-test-5d1c7a0e93b24c1f86d5e2a9b03c7f41"
GENERATE = 'python -c "import secrets; print(secrets.token_hex(32))"'


def tcp_port() -> int:
    return free_port(socket.SOCK_STREAM, both=False)


def settings_for(url: str, **overrides: Any) -> WebhookSettings:
    values: dict[str, Any] = {"targets": [{"url": url, "secret": SECRET}], "poll_interval_s": 0.05,
                              "backoff_base_s": 0.05, "backoff_max_s": 0.2, "timeout_s": 0.5, "max_attempts": 1000}
    return WebhookSettings.model_validate(values | overrides)


def verifies(r: Received, secret: str = SECRET, now: float | None = None) -> bool:
    """What a receiver checks: the signature over the timestamp and the raw body, and a fresh timestamp."""
    return signature_matches(r.body, secret, r.headers.get("x-hotline-signature"), r.headers.get("x-hotline-timestamp"),
                             now=now)


class CheckingReceiver(WebhookReceiver):
    """A receiver that does what a CRM should: answers 401 to a request whose signature or timestamp does not
    verify (its clock can be moved ahead to play a replay later), and notes when each request arrived."""

    def __init__(self, port: int, secret: str = SECRET, behaviour: Behaviour | None = None) -> None:
        super().__init__(port, behaviour)
        self.secret = secret
        self.clock_ahead_s = 0.0
        self.arrivals: list[tuple[dict[str, str], float]] = []

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        now = time.time()
        with self._lock:
            self.arrivals.append((headers, now))
        if not signature_matches(body, self.secret, headers.get("x-hotline-signature"),
                                 headers.get("x-hotline-timestamp"), now=now + self.clock_ahead_s):
            with self._lock:
                self.received.append(Received(path, headers, body, 401))
            return 401, 0.0
        return super()._answer(path, headers, body)


def check_arrivals(received: list[Received], expected_keys: set[str]) -> dict[str, list[Received]]:
    """Every expected event was accepted; every request is signed with a recent timestamp, its key is its body's
    id, and repeats of a key carry the same bytes."""
    by_key: dict[str, list[Received]] = defaultdict(list)
    for r in received:
        assert verifies(r), r.headers
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


BODY = b"The quick brown fox jumps over the lazy dog"
TS = 1700000000


def test_signature_is_hmac_sha256_of_timestamp_dot_raw_body():
    # printf '1700000000.The quick brown fox jumps over the lazy dog' | openssl dgst -sha256 -hmac key
    assert sign(BODY, "key", TS) == "sha256=2f658d6aef4f246e91cd741bbcded7479e9605f9d41c9e248122a117e0e1765b"
    assert sign(BODY, "key", TS) == sign(BODY, "key", str(TS))
    assert sign(BODY, "key", TS) != sign(BODY, "key", TS + 1)
    assert signature_matches(BODY, "key", sign(BODY, "key", TS), str(TS), now=TS)


@pytest.mark.parametrize(("case", "body", "secret", "header", "timestamp", "now"), [
    ("tampered body", BODY + b" ", "key", sign(BODY, "key", TS), str(TS), TS),
    ("other secret", BODY, "other", sign(BODY, "key", TS), str(TS), TS),
    ("timestamp moved forward", BODY, "key", sign(BODY, "key", TS), str(TS + 1), TS),
    ("signed without the timestamp", BODY, "key",
     "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", str(TS), TS),
    ("replayed 301 s later", BODY, "key", sign(BODY, "key", TS), str(TS), TS + 301),
    ("replayed an hour later", BODY, "key", sign(BODY, "key", TS), str(TS), TS + 3600),
    ("from 301 s in the future", BODY, "key", sign(BODY, "key", TS), str(TS), TS - 301),
    ("no signature header", BODY, "key", None, str(TS), TS),
    ("no timestamp header", BODY, "key", sign(BODY, "key", TS), None, TS),
    ("no timestamp header, body-only signature", BODY, "key",
     "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", None, TS),
    ("empty timestamp", BODY, "key", sign(BODY, "key", ""), "", TS),
    ("negative timestamp", BODY, "key", sign(BODY, "key", "-1"), "-1", -1),
    ("not digits", BODY, "key", sign(BODY, "key", "1.7e9"), "1.7e9", 1.7e9),
    ("non-ASCII digits", BODY, "key", sign(BODY, "key", TS), "\u0661\u0667" + "\u0660" * 8, TS),
    ("non-ASCII signature", BODY, "key", "sha256=ї", str(TS), TS),
    ("empty signature", BODY, "key", "", str(TS), TS),
    ("NaN clock", BODY, "key", sign(BODY, "key", TS), str(TS), float("nan")),
])
def test_signature_matches_refuses(case, body, secret, header, timestamp, now):
    assert not signature_matches(body, secret, header, timestamp, now=now), case


def test_the_replay_window_is_300_s_either_way_by_default_and_can_be_narrowed():
    header = sign(BODY, "key", TS)
    for now in (TS - 300, TS - 0.5, TS, TS + 299.9, TS + 300):
        assert signature_matches(BODY, "key", header, str(TS), now=now), now
    assert signature_matches(BODY, "key", header, TS, now=TS + 3)  # an int timestamp is fine too
    assert not signature_matches(BODY, "key", header, str(TS), now=TS + 31, tolerance_s=30)
    assert signature_matches(BODY, "key", " " + header + " ", f" {TS} ", now=TS)  # header whitespace trimmed
    fresh = int(time.time())
    assert signature_matches(BODY, "key", sign(BODY, "key", fresh), str(fresh))  # default now: the local clock
    assert not signature_matches(BODY, "key", header, str(TS))  # TS is long past


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
    with pytest.raises(ValidationError, match="http"):
        WebhookSettings.model_validate({"targets": [{"url": "ftp://x", "secret": SECRET}]})
    with pytest.raises(ValidationError, match="no host"):
        WebhookSettings.model_validate({"targets": [{"url": "https:///hooks", "secret": SECRET}]})
    with pytest.raises(ValidationError, match="same url"):
        WebhookSettings.model_validate({"targets": [{"url": "https://x", "secret": SECRET},
                                                    {"url": "https://x", "secret": SECRET + "2"}]})
    with pytest.raises(ValidationError, match="backoff_max_s"):
        WebhookSettings(backoff_base_s=10, backoff_max_s=1)
    secret = "s3cr3t" * 6
    assert secret not in repr(WebhookSettings.model_validate({"targets": [{"url": "https://x", "secret": secret}]}))


def webhook_settings(url: str, **extra: Any) -> WebhookSettings:
    return WebhookSettings.model_validate({"targets": [{"url": url, "secret": SECRET}], **extra})


@pytest.mark.parametrize("url", ["http://crm.example/hooks", "http://CRM.example:8080/hooks", "http://10.0.0.5/h",
                                 "http://127.0.0.1@crm.example/h", "http://127.0.0.1.crm.example/h",
                                 "http://127.0.0.2/h", "http://localhost.crm.example/h"])
def test_plain_http_is_refused_with_the_way_out(url):
    with pytest.raises(ValidationError) as err:
        webhook_settings(url)
    message = str(err.value)
    assert "webhooks.targets[0]" in message and "https://" in message, message
    assert "webhooks.allow_http_hosts" in message and "now: localhost, 127.0.0.1, ::1" in message, message


def test_plain_http_is_accepted_for_hosts_allowed_on_purpose():
    # Loopback is allowed by default: a receiver on this machine.
    for url in ("http://127.0.0.1:9/h", "http://localhost:9/h", "http://[::1]:9/h", "http://LOCALHOST./h"):
        assert webhook_settings(url).targets[0].url == url
    # Any other host only when listed (names compared case-insensitively).
    assert webhook_settings("http://crm.example:8080/h", allow_http_hosts=["CRM.Example"]).targets
    assert webhook_settings("http://10.0.0.5/h", allow_http_hosts=["10.0.0.5", "[::1]"]).targets
    # An empty list means https everywhere, loopback included.
    with pytest.raises(ValidationError, match=r"add '127.0.0.1' to webhooks.allow_http_hosts \(now: none\)"):
        webhook_settings("http://127.0.0.1:9/h", allow_http_hosts=[])
    # https needs no allowance.
    assert webhook_settings("https://crm.example/h", allow_http_hosts=[]).targets
    assert WebhookSettings().allow_http_hosts == ["localhost", "127.0.0.1", "::1"]


@pytest.mark.parametrize("entry", ["http://crm.example", "crm.example/hooks", "*", "*.example", "", " ", "a@b"])
def test_allow_http_hosts_takes_bare_hosts_only(entry):
    with pytest.raises(ValidationError, match="not a host name or IP address"):
        WebhookSettings.model_validate({"allow_http_hosts": [entry]})


def test_short_secrets_are_refused_with_how_to_generate_one():
    short = "x" * (MIN_SECRET_LENGTH - 1)
    with pytest.raises(ValidationError) as err:
        WebhookSettings.model_validate({"targets": [{"url": "https://crm.example/h", "secret": short}]})
    message = str(err.value)
    assert f"the secret has {MIN_SECRET_LENGTH - 1} characters, at least 32 are required" in message, message
    assert GENERATE in message
    assert short not in message  # the refused secret is not printed
    assert MIN_SECRET_LENGTH == 32
    ok = WebhookSettings.model_validate({"targets": [{"url": "https://crm.example/h", "secret": "x" * 32}]})
    assert ok.targets[0].secret.get_secret_value() == "x" * 32
    # The command in the message makes an acceptable secret.
    made = subprocess.run([sys.executable, "-c", "import secrets; print(secrets.token_hex(32))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert len(made) == 64
    WebhookSettings.model_validate({"targets": [{"url": "https://crm.example/h", "secret": made}]})


def test_hotline_refuses_to_start_with_plain_http_or_a_short_secret(tmp_path):
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump({"webhooks": {"targets": [
        {"url": "http://crm.example/hooks", "secret": SECRET},
        {"url": "https://crm.example/other", "secret": "CHANGE-ME"},
    ]}}))
    proc = run_cli("serve", "--config", str(path), check=False, timeout=120)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "invalid configuration" in proc.stderr
    assert "webhooks.targets[0] (host crm.example): plain http:// is refused" in proc.stderr, proc.stderr
    assert "webhooks.targets[1] (host crm.example): the secret has 9 characters" in proc.stderr, proc.stderr
    assert GENERATE in proc.stderr


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


async def deliver_one(store: Any, receiver: Any, **overrides: Any) -> str:
    """One interaction.created, delivered to ``receiver`` by a real worker (the receiver keeps running);
    the customer's id."""
    settings = settings_for(receiver.url, **overrides)
    store.outbox.configure(settings.targets)
    c = store.customers.create_profile("C", [])
    store.timeline.add_interaction(InteractionDraft(c.id, "chat"))
    worker = WebhookWorker(settings, store)
    worker.start()
    try:
        await until(lambda: len(deliveries(store, "delivered")) == 1)
    finally:
        await worker.stop()
    return str(c.id)


async def test_every_attempt_is_signed_with_its_own_time(sqlite_store):
    receiver = CheckingReceiver(tcp_port(), behaviour=Behaviour(fail_first=3)).start()
    try:
        await deliver_one(sqlite_store, receiver, backoff_base_s=1.0, backoff_max_s=1.0)  # 0.5-1.0 s apart
    finally:
        receiver.stop()
    assert [r.status for r in receiver.received] == [503, 503, 503, 200]  # every attempt verified (no 401)
    assert [r.headers["x-hotline-attempt"] for r in receiver.received] == ["1", "2", "3", "4"]
    assert len({r.body for r in receiver.received}) == 1  # the same bytes ...
    stamps = [int(r.headers["x-hotline-timestamp"]) for r in receiver.received]
    assert stamps == sorted(stamps) and stamps[-1] >= stamps[0] + 1, stamps  # ... under newer timestamps
    assert len({r.headers["x-hotline-signature"] for r in receiver.received}) == len(set(stamps))
    for headers, arrived in receiver.arrivals:  # each one is the time it was sent, not the first attempt's
        assert 0 <= arrived - int(headers["x-hotline-timestamp"]) < 1.25, (arrived, headers)
    first = receiver.received[0]
    assert verifies(first, now=stamps[0]) and not verifies(first, now=stamps[0] + 301)


async def test_a_checking_receiver_refuses_replays_tampering_and_the_wrong_secret(sqlite_store):
    receiver = CheckingReceiver(tcp_port()).start()
    customer = await deliver_one(sqlite_store, receiver)
    try:
        (original,) = receiver.received
        assert original.status == 200
        headers = {k: v for k, v in original.headers.items() if k not in ("host", "content-length")}
        async with httpx.AsyncClient(timeout=5) as client:
            # Within the window the same request passes the signature check (Idempotency-Key drops the repeat).
            assert (await client.post(receiver.url, content=original.body, headers=headers)).status_code == 200
            tampered = original.body.replace(b'"chat"', b'"branch"')
            assert tampered != original.body
            assert (await client.post(receiver.url, content=tampered, headers=headers)).status_code == 401
            # A fresh timestamp on the captured signature does not pass either.
            restamped = headers | {"x-hotline-timestamp": str(int(time.time()) + 1)}
            assert (await client.post(receiver.url, content=original.body, headers=restamped)).status_code == 401
            # Five minutes and one second later the captured request is refused.
            receiver.clock_ahead_s = 301
            assert (await client.post(receiver.url, content=original.body, headers=headers)).status_code == 401
    finally:
        receiver.stop()
    # A sender with another secret never gets in.
    other = CheckingReceiver(tcp_port(), secret="another-secret-of-at-least-32-characters").start()
    sqlite_store.outbox.configure(settings_for(other.url).targets)
    sqlite_store.timeline.add_interaction(InteractionDraft(customer, "email"))
    worker = WebhookWorker(settings_for(other.url), sqlite_store)
    worker.start()
    try:
        await until(lambda: len(other.received) >= 2)
    finally:
        await worker.stop()
        other.stop()
    assert {r.status for r in other.received} == {401}
    assert verifies(other.received[0])  # it was signed, just not with the receiver's secret


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
        "webhooks": {"targets": [{"url": url, "secret": SECRET}], "allow_http_hosts": ["127.0.0.1"],
                     "poll_interval_s": 0.1, "backoff_base_s": 0.1, "backoff_max_s": 0.5, "timeout_s": 1.0,
                     "max_attempts": 1000},
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
