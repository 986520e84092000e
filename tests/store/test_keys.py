"""API keys on SQLite and PostgreSQL: expiry, revocation, listing, and naming a key by id, prefix or value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from store.keys import AmbiguousKeyError, KeyRecord, UnknownKeyError
from store.schema import ApiKey
from store.store import Store

pytest_plugins = ["tests.support.databases"]  # any_store, sqlite_store (SQLite / PostgreSQL)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the repository."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(any_store: Store) -> Clock:
    c = Clock(T0)
    any_store.keys.clock = c
    return c


def _prefix(key: str) -> str:
    return key.split("_")[1]


def test_key_without_expiry_never_expires(any_store, clock):
    key, rec = any_store.keys.issue("agent", "desk 7")
    assert (rec.role, rec.name, rec.expires_at, rec.revoked_at, rec.created_at) == ("agent", "desk 7", None, None, T0)
    clock.now = T0 + timedelta(days=100 * 365)
    assert any_store.keys.authenticate(key) is not None
    assert any_store.keys.find(str(rec.id)).status(clock.now) == "active"


def test_key_works_until_it_expires(any_store, clock):
    key, rec = any_store.keys.issue("integration", "crm", valid_for=timedelta(days=30))
    assert rec.expires_at == T0 + timedelta(days=30)
    with any_store.sessions() as s:  # stored, read back timezone-aware
        assert s.scalars(select(ApiKey.expires_at)).one() == T0 + timedelta(days=30)
    clock.now = T0 + timedelta(days=30, seconds=-1)
    who = any_store.keys.authenticate(key)
    assert who is not None and (who.key_id, who.role, who.name) == (rec.id, "integration", "crm")
    clock.now = T0 + timedelta(days=30)  # the expiry instant itself is already too late
    assert any_store.keys.authenticate(key) is None
    assert any_store.keys.find(rec.label).status(clock.now) == "expired"
    assert any_store.keys.all() == []
    assert [r.id for r in any_store.keys.all(include_inactive=True)] == [rec.id]


def test_past_expires_at_is_refused_by_the_real_clock(any_store):
    """No injected clock: the repository's default is the wall clock."""
    past = any_store.keys.create("admin", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    future = any_store.keys.create("admin", expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert any_store.keys.authenticate(past) is None
    assert any_store.keys.authenticate(future) is not None


def test_expires_at_in_another_zone_or_naive_means_the_same_instant(any_store, clock):
    kyiv = timezone(timedelta(hours=2))
    aware, rec = any_store.keys.issue("agent", expires_at=datetime(2026, 3, 1, 13, 0, tzinfo=kyiv))  # 11:00 UTC
    naive, rec2 = any_store.keys.issue("agent", expires_at=datetime(2026, 3, 1, 11, 0))  # taken as UTC
    assert rec.expires_at == rec2.expires_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    clock.now = datetime(2026, 3, 1, 10, 59, tzinfo=UTC)
    assert any_store.keys.authenticate(aware) is not None and any_store.keys.authenticate(naive) is not None
    clock.now = datetime(2026, 3, 1, 11, 0, 1, tzinfo=UTC)
    assert any_store.keys.authenticate(aware) is None and any_store.keys.authenticate(naive) is None


def test_expires_at_and_valid_for_together_is_an_error(any_store):
    with pytest.raises(ValueError, match="not both"):
        any_store.keys.issue("agent", expires_at=T0, valid_for=timedelta(days=1))
    assert any_store.keys.all(include_inactive=True) == []


def test_revoke_by_id_prefix_or_key_and_twice(any_store, clock):
    keys = [any_store.keys.issue("agent", f"k{i}") for i in range(4)]
    (k0, r0), (k1, r1), (k2, r2), (k3, r3) = keys
    clock.now = T0 + timedelta(minutes=5)
    rec, newly = any_store.keys.revoke(str(r0.id))
    assert newly and (rec.id, rec.revoked, rec.revoked_at) == (r0.id, True, clock.now)
    assert rec.status(clock.now) == "revoked"
    assert any_store.keys.revoke(_prefix(k1))[0].id == r1.id
    assert any_store.keys.revoke(f"hk_{_prefix(k2).upper()}_")[0].id == r2.id  # the label, in any case
    assert any_store.keys.revoke(k3)[0].id == r3.id  # the whole key, e.g. one found in a log
    for key in (k0, k1, k2, k3):
        assert any_store.keys.authenticate(key) is None
    clock.now = T0 + timedelta(minutes=9)
    again, newly = any_store.keys.revoke(str(r0.id))
    assert not newly and again.revoked_at == T0 + timedelta(minutes=5)  # the first revocation's time is kept


def test_revoke_leaves_other_keys_alone(any_store, clock):
    keep, revoke = any_store.keys.create("agent"), any_store.keys.create("agent")
    any_store.keys.revoke(_prefix(revoke))
    assert any_store.keys.authenticate(keep) is not None
    assert [r.label for r in any_store.keys.all()] == [f"hk_{_prefix(keep)}_"]


@pytest.mark.parametrize("ref", ["999", "deadbeef", "hk_deadbeef_", "hk_deadbeef_notthesecret", "", "  ", "hk_",
                                 "1" * 40])
def test_unknown_reference(any_store, ref):
    any_store.keys.create("agent")
    with pytest.raises(UnknownKeyError) as err:
        any_store.keys.revoke(ref)
    assert isinstance(err.value, LookupError) and repr(ref) in str(err.value)
    with pytest.raises(UnknownKeyError):
        any_store.keys.find(ref)


def test_shared_prefix_is_ambiguous(any_store):
    a, b = any_store.keys.issue("agent")[1], any_store.keys.issue("agent")[1]
    with any_store.sessions.begin() as s:
        s.execute(update(ApiKey).where(ApiKey.id == b.id).values(prefix=a.prefix))
    with pytest.raises(AmbiguousKeyError) as err:
        any_store.keys.revoke(a.prefix)
    assert err.value.ids == [a.id, b.id] and "give the id" in str(err.value)
    assert any_store.keys.revoke(str(b.id))[0].id == b.id
    assert any_store.keys.find(str(a.id)).status(T0) == "active"


def test_id_that_is_also_another_keys_prefix_is_ambiguous(any_store):
    a, b = any_store.keys.issue("agent")[1], any_store.keys.issue("agent")[1]
    with any_store.sessions.begin() as s:
        s.execute(update(ApiKey).where(ApiKey.id == b.id).values(prefix=str(a.id)))
    with pytest.raises(AmbiguousKeyError):
        any_store.keys.revoke(str(a.id))
    assert any_store.keys.revoke(f"hk_{a.id}_")[0].id == b.id  # the hk_ form always means a prefix


def test_list_hides_inactive_keys_unless_asked(any_store, clock):
    active, soon, revoked = (any_store.keys.issue("agent", "a")[1],
                             any_store.keys.issue("security", "s", valid_for=timedelta(hours=1))[1],
                             any_store.keys.issue("admin", "r")[1])
    any_store.keys.revoke(str(revoked.id))
    assert [r.id for r in any_store.keys.all()] == [active.id, soon.id]
    clock.now = T0 + timedelta(hours=2)
    assert [r.id for r in any_store.keys.all()] == [active.id]
    listed = any_store.keys.all(include_inactive=True)
    assert [(r.id, r.status(clock.now)) for r in listed] == [(active.id, "active"), (soon.id, "expired"),
                                                              (revoked.id, "revoked")]
    assert all(isinstance(r, KeyRecord) for r in listed)


def test_revoked_wins_over_expired_and_the_json_has_no_secret(any_store, clock):
    key, rec = any_store.keys.issue("agent", "x", valid_for=timedelta(hours=1))
    any_store.keys.revoke(rec.label)
    clock.now = T0 + timedelta(days=1)
    [got] = any_store.keys.all(include_inactive=True)
    data = got.to_json(clock.now)
    assert data == {"id": rec.id, "prefix": rec.label, "role": "agent", "name": "x",
                    "created_at": T0.isoformat(), "expires_at": (T0 + timedelta(hours=1)).isoformat(),
                    "revoked_at": T0.isoformat(), "status": "revoked", "agent_id": None}
    assert key.split("_", 2)[2] not in str(data)


def test_a_key_revoked_by_the_old_flag_alone_is_revoked(any_store, clock):
    """Keys revoked before revision 0007 have ``revoked`` set and no ``revoked_at``."""
    key, rec = any_store.keys.issue("agent")
    with any_store.sessions.begin() as s:
        s.execute(update(ApiKey).where(ApiKey.id == rec.id).values(revoked=True))
    assert any_store.keys.authenticate(key) is None
    got = any_store.keys.find(str(rec.id))
    assert (got.status(T0), got.revoked_at) == ("revoked", None)
    assert any_store.keys.revoke(str(rec.id))[1] is False
