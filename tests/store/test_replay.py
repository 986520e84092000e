"""Replay fingerprints in the store (SQLite and PostgreSQL): per customer, enrolment replaced, calls expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.store import Store
from store.voiceprints import ReplayPrintRecord

pytest_plugins = ["tests.support.databases"]  # any_store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def rec(customer_id: str, kind: str, label: str, at: datetime, call_id: str | None = None) -> ReplayPrintRecord:
    return ReplayPrintRecord(customer_id, kind, label, call_id, "k1", label.encode() + b"-sealed", at)


def test_prints_per_customer_enrolment_replaced_calls_windowed_and_deleted(any_store: Store) -> None:
    a = any_store.customers.create("A", [])
    b = any_store.customers.create("B", [])
    replay = any_store.replay
    replay.replace_enrolment(a, [rec(a, "enrolment", "old 1", T0)])
    replay.replace_enrolment(a, [rec(a, "enrolment", "new 1", T0), rec(a, "enrolment", "new 2", T0)])
    replay.add(rec(a, "call", "call c1", T0 - timedelta(days=100), "c1"))
    replay.add(rec(a, "call", "call c2", T0 - timedelta(days=2), "c2"))
    replay.add(rec(b, "call", "call c3", T0, "c3"))
    got = replay.for_customer(a, T0 - timedelta(days=90))
    assert [(r.kind, r.label, r.call_id) for r in got] == [("enrolment", "new 1", None), ("enrolment", "new 2", None),
                                                          ("call", "call c2", "c2")]
    assert got[0].sealed == b"new 1-sealed" and got[2].created_at == T0 - timedelta(days=2)
    assert replay.expire_calls(T0 - timedelta(days=90)) == 1  # c1 only: enrolment prints never expire
    assert replay.delete_customer(a) == 3
    assert replay.for_customer(a, T0 - timedelta(days=900)) == []
    assert [r.label for r in replay.for_customer(b, T0 - timedelta(days=1))] == ["call c3"]
