"""The transactional outbox on SQLite and PostgreSQL: events exist exactly when their change commits, one row
per interested target, redacted, claimed with a lease that survives crashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import utcnow
from profiles.errors import CallInteractionExistsError
from profiles.records import InteractionDraft
from store.outbox import claim_due, enqueue, list_deliveries, mark_attempt_failed, mark_delivered, redeliver
from store.schema import InteractionRow, WebhookOutboxRow
from store.store import Store
from webhooks.settings import WebhookTarget

pytest_plugins = ["tests.support.databases"]  # any_store, sqlite_store (SQLite / PostgreSQL)

ALL = WebhookTarget(url="http://127.0.0.1:9/all", secret="s1")
INTERACTIONS = WebhookTarget(url="http://127.0.0.1:9/interactions", secret="s2", events=["interaction.*"])
CASES = WebhookTarget(url="http://127.0.0.1:9/cases", secret="s3", events=["case.created"])


def rows(store: Store) -> list[WebhookOutboxRow]:
    with store.sessions() as s:
        return list(s.scalars(select(WebhookOutboxRow).order_by(WebhookOutboxRow.id)).all())


def count(store: Store, model: type) -> int:
    with store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def store(any_store: Store) -> Store:
    any_store.outbox.configure([ALL, INTERACTIONS, CASES])
    return any_store


def test_one_row_per_interested_target(store):
    c = store.customers.create_profile("C", [], external_id="crm-42")
    rec = store.timeline.add_interaction(InteractionDraft(c.id, "chat", reason="limits"))
    store.timeline.update_interaction(rec.id, {"outcome": "resolved"})
    case = store.timeline.create_case(c.id, "Dispute")
    store.timeline.patch_case(case.id, {"status": "closed"})
    got = [(r.kind, r.url, r.event_id) for r in rows(store)]
    assert got == [
        ("interaction.created", ALL.url, f"interaction.created:{rec.id}"),
        ("interaction.created", INTERACTIONS.url, f"interaction.created:{rec.id}"),
        ("interaction.updated", ALL.url, f"interaction.updated:{rec.id}:v2"),
        ("interaction.updated", INTERACTIONS.url, f"interaction.updated:{rec.id}:v2"),
        ("case.created", ALL.url, f"case.created:{case.id}"),
        ("case.created", CASES.url, f"case.created:{case.id}"),
        ("case.updated", ALL.url, f"case.updated:{case.id}:v2"),
    ]
    first = rows(store)[0]
    assert (first.status, first.attempts, first.delivered_at) == ("pending", 0, None)
    assert first.payload["customer_external_id"] == "crm-42"
    assert first.payload["interaction"]["id"] == rec.id
    updated = rows(store)[2].payload
    assert updated["changed"] == ["outcome"] and updated["interaction"]["version"] == 2
    store.timeline.update_interaction(rec.id, {"outcome": "resolved"})  # nothing changed: no event
    assert len(rows(store)) == 7


def test_no_event_without_its_change_and_no_change_without_its_event(store, monkeypatch):
    c = store.customers.create_profile("C", [])
    store.timeline.add_interaction(InteractionDraft(c.id, "voice", call_id="call-1"))
    before = len(rows(store))
    with pytest.raises(CallInteractionExistsError):
        store.timeline.add_interaction(InteractionDraft(c.id, "voice", call_id="call-1"))
    assert len(rows(store)) == before  # the refused change queued nothing

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("store.outbox.enqueue", broken)
    with pytest.raises(RuntimeError):
        store.timeline.add_interaction(InteractionDraft(c.id, "chat", summary="lost"))
    assert count(store, InteractionRow) == 1  # the interaction whose event could not be queued was not stored


def test_free_text_is_redacted_before_it_is_stored(store):
    c = store.customers.create_profile("C", [])
    secret_card, secret_mail = "4111 1111 1111 1111", "olena.s@example.com"
    rec = store.timeline.add_interaction(InteractionDraft(
        c.id, "chat", reason=f"card {secret_card} blocked", summary=f"write to {secret_mail}",
        notes=f"called back on +380 44 123 45 67, card {secret_card}", tags=["cards"]))
    payload = rows(store)[0].payload["interaction"]
    stored = str(rows(store)[0].payload)
    assert secret_card not in stored and "4111" not in stored
    assert secret_mail not in stored and "+380 44 123 45 67" not in stored
    assert payload["tags"] == ["cards"] and payload["id"] == rec.id  # ids and tags are not free text
    assert payload["reason"].startswith("card ") and payload["reason"].endswith(" blocked")
    # The timeline itself keeps what was written.
    assert store.timeline.get_interaction(rec.id).reason == f"card {secret_card} blocked"


def test_enqueue_is_idempotent_per_key_and_url(store):
    with store.sessions.begin() as s:
        assert enqueue(s, "interaction.created", {"a": 1}, "k-1", [ALL, INTERACTIONS, CASES]) == 2
    with store.sessions.begin() as s:
        assert enqueue(s, "interaction.created", {"a": 1}, "k-1", [ALL, INTERACTIONS]) == 0
        assert enqueue(s, "customer.merged", {}, "k-2", [INTERACTIONS, CASES]) == 0  # nobody wants it
    assert [(r.event_id, r.url) for r in rows(store)] == [("k-1", ALL.url), ("k-1", INTERACTIONS.url)]


def test_targets_filter_events():
    assert ALL.wants("customer.merged")
    assert INTERACTIONS.wants("interaction.updated") and not INTERACTIONS.wants("case.created")
    assert CASES.wants("case.created") and not CASES.wants("case.updated")
    assert not WebhookTarget(url="http://x/", secret="s", events=["interaction"]).wants("interaction.created")


def test_claim_lease_and_recovery_after_a_crash(store):
    with store.sessions.begin() as s:
        enqueue(s, "interaction.created", {}, "k-1", [ALL])
        enqueue(s, "interaction.created", {}, "k-2", [ALL])
    now = utcnow()
    claimed = claim_due(store.sessions, now, 10, lease_s=30)
    assert [(d.event_id, d.attempts) for d in claimed] == [("k-1", 1), ("k-2", 1)]
    assert claim_due(store.sessions, now + timedelta(seconds=29), 10, 30) == []  # in flight: leased
    # The worker "crashes" here: nothing is marked. After the lease the rows are due again.
    again = claim_due(store.sessions, now + timedelta(seconds=31), 10, 30)
    assert [(d.event_id, d.attempts) for d in again] == [("k-1", 2), ("k-2", 2)]
    # A late answer to the first, abandoned attempt is ignored: the row belongs to attempt 2 now.
    assert not mark_delivered(store.sessions, claimed[0].id, 1, now)
    assert mark_delivered(store.sessions, again[0].id, 2, now)
    assert mark_attempt_failed(store.sessions, again[1].id, 2, "HTTP 503", now + timedelta(seconds=60))
    assert [(r.status, r.attempts, r.last_error) for r in rows(store)] == [
        ("delivered", 2, None), ("pending", 2, "HTTP 503")]
    assert claim_due(store.sessions, now + timedelta(seconds=59), 10, 30) == []
    assert [d.event_id for d in claim_due(store.sessions, now + timedelta(seconds=61), 10, 30)] == ["k-2"]


def test_two_workers_never_claim_the_same_attempt(store):
    other = Store(store.url)
    try:
        with store.sessions.begin() as s:
            for i in range(6):
                enqueue(s, "interaction.created", {}, f"k-{i}", [ALL])
        now = utcnow()
        a = claim_due(store.sessions, now, 4, 30)
        b = claim_due(other.sessions, now, 4, 30)
        assert len(a) == 4 and len(b) == 2
        assert not {d.id for d in a} & {d.id for d in b}
    finally:
        other.close()


def test_failed_rows_stay_listed_and_can_be_sent_again(store):
    with store.sessions.begin() as s:
        enqueue(s, "interaction.created", {}, "k-1", [ALL])
        enqueue(s, "interaction.created", {}, "k-2", [ALL])
    d1, d2 = claim_due(store.sessions, utcnow(), 10, 30)
    mark_attempt_failed(store.sessions, d1.id, 1, "ConnectError: refused", None)
    mark_delivered(store.sessions, d2.id, 1, utcnow())
    total, failed = list_deliveries(store.sessions, "failed")
    assert total == 1 and failed[0].event_id == "k-1" and failed[0].last_error == "ConnectError: refused"
    assert list_deliveries(store.sessions, "delivered")[0] == 1
    assert [d.event_id for d in list_deliveries(store.sessions)[1]] == ["k-2", "k-1"]  # newest first
    again = redeliver(store.sessions, d1.id)
    assert again is not None and (again.status, again.attempts, again.event_id) == ("pending", 0, "k-1")
    assert redeliver(store.sessions, 10_000) is None
    assert [d.event_id for d in claim_due(store.sessions, utcnow(), 10, 30)] == ["k-1"]

