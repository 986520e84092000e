"""The call store on a real SQLite file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, update

from core.roles import ROLES, UnknownRoleError
from store.calls import SegmentRecord
from store.schema import ApiKey
from store.store import Store

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'calls.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.migrate()
    yield s
    s.close()


def _seg(start: float, text: str, leg: str = "caller") -> SegmentRecord:
    return SegmentRecord(leg, start, start + 0.5, text, 0.9, [{"word": text, "start": start, "end": start + 0.5,
                                                               "conf": 0.9}])


def _calls(store: Store) -> None:
    """Four calls one minute apart: c0 oldest, c3 newest."""
    numbers = [("+380441111111", "+380440000001"), ("+380442222222", "+380440000001"),
               ("+380441111111", "+380440000002"), ("+14155550123", "+380440000002")]
    for i, (caller, called) in enumerate(numbers):
        store.calls.create(f"c{i}", f"sip-{i}", caller, None, called, "ko")
        store.calls.update(f"c{i}", started_at=T0 + timedelta(minutes=i))


def test_migrate_twice_is_idempotent(db_url):
    s = Store(db_url)
    try:
        s.migrate()
        s.calls.create("a", "sip-a", "+380441234567", "Alice", "+380440000001", "ko")
        s.migrate()
        tables = set(inspect(s.engine).get_table_names())
        assert {"calls", "transcript_segments", "call_events", "api_keys", "alembic_version"} <= tables
        # Data survives the second run.
        call = s.calls.get("a")
        assert call is not None and call.caller_display == "Alice"
    finally:
        s.close()


def test_create_update_get_call(store):
    store.calls.create("c1", "sip-1", "+380441234567", "Alice", "+380440000001", "ko")
    call = store.calls.get("c1")
    assert call is not None
    assert (call.id, call.sip_call_id, call.caller_number, call.caller_display, call.called_number) == (
        "c1", "sip-1", "+380441234567", "Alice", "+380440000001")
    assert (call.state, call.recognition, call.codec, call.ended_at, call.end_reason) == (
        "offered", "pending", None, None, None)
    store.calls.update("c1", state="ended", codec="PCMU", end_reason="caller_hangup", ended_at=T0)
    call = store.calls.get("c1")
    assert call is not None
    assert (call.state, call.codec, call.end_reason) == ("ended", "PCMU", "caller_hangup")
    assert call.ended_at is not None and call.ended_at.replace(tzinfo=UTC) == T0
    assert call.to_json()["state"] == "ended"
    assert store.calls.get("missing") is None
    store.calls.update("missing", state="ended")  # a no-op, not an error
    assert store.calls.get("missing") is None


def test_add_segment_is_visible_to_another_store_at_once(store, db_url):
    store.calls.create("c1", "sip-1", None, None, None, "ko")
    other = Store(db_url)
    try:
        assert other.calls.transcript("c1") == []
        store.calls.add_segment("c1", _seg(1.0, "안녕"))
        got = other.calls.transcript("c1")
        assert [(s.text, s.start, s.leg) for s in got] == [("안녕", 1.0, "caller")]
        assert got[0].words == [{"word": "안녕", "start": 1.0, "end": 1.5, "conf": 0.9}]
    finally:
        other.close()


def test_transcript_is_ordered_by_start(store):
    store.calls.create("c1", "sip-1", None, None, None, "ko")
    store.calls.create("c2", "sip-2", None, None, None, "ko")
    for start, text in [(5.0, "셋"), (1.0, "하나"), (3.0, "둘")]:
        store.calls.add_segment("c1", _seg(start, text))
    store.calls.add_segment("c2", _seg(0.5, "다른"))
    assert [s.text for s in store.calls.transcript("c1")] == ["하나", "둘", "셋"]
    assert [s.start for s in store.calls.transcript("c1")] == [1.0, 3.0, 5.0]
    assert [s.text for s in store.calls.transcript("c2")] == ["다른"]


def test_events_timeline(store):
    store.calls.create("c1", "sip-1", None, None, None, "ko")
    store.calls.add_event("c1", "dtmf", {"digit": "5", "at": 1.2})
    store.calls.add_event("c1", "hold", {})
    events = store.calls.events("c1")
    assert [e["type"] for e in events] == ["dtmf", "hold"]
    assert (events[0]["digit"], events[0]["at"]) == ("5", 1.2)


def test_list_calls_newest_first_with_total(store):
    _calls(store)
    total, calls = store.calls.find()
    assert total == 4
    assert [c.id for c in calls] == ["c3", "c2", "c1", "c0"]


def test_list_calls_filters_by_caller_or_called_number(store):
    _calls(store)
    total, calls = store.calls.find(number="+380441111111")  # caller of c0 and c2
    assert (total, [c.id for c in calls]) == (2, ["c2", "c0"])
    total, calls = store.calls.find(number="+380440000002")  # called of c2 and c3
    assert (total, [c.id for c in calls]) == (2, ["c3", "c2"])
    assert store.calls.find(number="+10000000000") == (0, [])


def test_list_calls_since_until(store):
    _calls(store)
    total, calls = store.calls.find(since=T0 + timedelta(minutes=1))
    assert (total, [c.id for c in calls]) == (3, ["c3", "c2", "c1"])
    total, calls = store.calls.find(until=T0 + timedelta(minutes=2))  # until is exclusive
    assert (total, [c.id for c in calls]) == (2, ["c1", "c0"])
    total, calls = store.calls.find(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert (total, [c.id for c in calls]) == (2, ["c2", "c1"])


def test_list_calls_since_with_utc_offset(store):
    _calls(store)
    kyiv = timezone(timedelta(hours=2))
    since = (T0 + timedelta(minutes=1)).astimezone(kyiv)  # 14:01+02:00, the same instant as c1's start
    total, calls = store.calls.find(since=since)
    assert (total, [c.id for c in calls]) == (3, ["c3", "c2", "c1"])


def test_read_back_timestamps_are_timezone_aware(store):
    store.calls.create("c1", "sip-1", None, None, None, "ko")
    call = store.calls.get("c1")
    assert call is not None
    assert call.started_at.tzinfo is not None


def test_list_calls_pagination(store):
    _calls(store)
    pages = [store.calls.find(limit=3, offset=0), store.calls.find(limit=3, offset=3),
             store.calls.find(limit=3, offset=6)]
    assert [t for t, _ in pages] == [4, 4, 4]
    assert [[c.id for c in cs] for _, cs in pages] == [["c3", "c2", "c1"], ["c0"], []]
    total, calls = store.calls.find(number="+380440000001", limit=1, offset=1)
    assert (total, [c.id for c in calls]) == (2, ["c0"])


# -- API keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_key_then_authenticate(store, role):
    key = store.keys.create(role, name=f"{role} tool")
    who = store.keys.authenticate(key)
    assert who is not None
    assert (who.role, who.name) == (role, f"{role} tool")
    assert store.keys.authenticate(key + "x") is None
    assert store.keys.authenticate("") is None


def test_keys_are_distinct_and_principals_separate(store):
    k1, k2 = store.keys.create("agent"), store.keys.create("security")
    assert k1 != k2
    p1, p2 = store.keys.authenticate(k1), store.keys.authenticate(k2)
    assert p1 is not None and p2 is not None
    assert (p1.role, p2.role) == ("agent", "security")
    assert p1.key_id != p2.key_id


def test_only_the_hash_is_stored(store, db_url, tmp_path):
    key = store.keys.create("admin", name="ops")
    with store.sessions() as s:
        row = s.scalars(select(ApiKey)).one()
    assert row.key_hash != key
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    store.close()  # checkpoint the WAL; then look at every byte SQLite wrote
    secret = key.split("_", 2)[2].encode()  # hk_<prefix>_<secret>; the secret itself may contain "_"
    assert len(secret) >= 40
    files = [p for p in tmp_path.iterdir() if p.name.startswith("calls.db")]
    assert files
    for path in files:
        data = path.read_bytes()
        assert key.encode() not in data, path.name
        assert secret not in data, path.name


def test_unknown_role_raises(store):
    with pytest.raises(UnknownRoleError) as err:
        store.keys.create("root")
    assert err.value.role == "root"
    assert "root" in str(err.value)
    assert isinstance(err.value, ValueError)
    with store.sessions() as s:
        assert s.scalars(select(ApiKey)).all() == []


def test_revoked_key_fails(store):
    keep, revoke = store.keys.create("agent"), store.keys.create("agent")
    who = store.keys.authenticate(revoke)
    assert who is not None
    with store.sessions.begin() as s:
        s.execute(update(ApiKey).where(ApiKey.id == who.key_id).values(revoked=True))
    assert store.keys.authenticate(revoke) is None
    assert store.keys.authenticate(keep) is not None


def test_a_failed_statement_never_shows_its_values(tmp_path):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    store = Store(f"sqlite:///{tmp_path / 'hide.db'}")
    store.migrate()
    try:
        with pytest.raises(DBAPIError) as info, store.engine.begin() as conn:
            conn.execute(text("INSERT INTO no_such_table (secret) VALUES (:v)"), {"v": "card 4111 1111 1111 1111"})
        assert "4111" not in str(info.value) and "hidden" in str(info.value)
    finally:
        store.close()
