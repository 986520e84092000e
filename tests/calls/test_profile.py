"""The caller's customer lookup never holds the caller up: slow or unavailable store means no profile."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from calls.profile import LOOKUP_TIMEOUT_S, CallProfile
from store.backlog import parkable
from store.calls import CallRepository
from store.store import Store
from verification.passive import CallVerification


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(f"sqlite:///{tmp_path / 'p.db'}")
    s.migrate()
    yield s
    s.close()


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


def _profile(store: Store) -> CallProfile:
    return CallProfile(store, "call1", _ignore, CallVerification(None, store, "call1", _ignore), None)


def test_a_known_number_finds_its_customer(store: Store):
    cust = store.customers.create_profile("Olena", ["+380441234567"])
    found = asyncio.run(_profile(store).by_phone("+380441234567"))
    assert found is not None and found.id == cust.id
    assert asyncio.run(_profile(store).by_phone(None)) is None


def test_a_slow_database_gives_no_profile_after_the_timeout(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store.customers, "by_phone", lambda number: time.sleep(LOOKUP_TIMEOUT_S + 2))
    started = time.monotonic()
    assert asyncio.run(_profile(store).by_phone("+380441234567")) is None
    assert time.monotonic() - started < LOOKUP_TIMEOUT_S + 1


def test_parked_writes_make_the_lookup_fail_fast(store: Store, monkeypatch: pytest.MonkeyPatch):
    from sqlalchemy.exc import OperationalError

    @parkable("calls.create")
    def create(self: CallRepository, *args: Any, **kwargs: Any) -> None:  # as if the database refused connections
        raise OperationalError(None, None, ConnectionRefusedError("connection refused"))

    async def scenario() -> Any:
        monkeypatch.setattr(CallRepository, "create", create)
        assert await store.submit(store.calls.create, "c1", "sip", None, None, None, None) is False
        return await _profile(store).by_phone("+380441234567")

    started = time.monotonic()
    assert asyncio.run(scenario()) is None and store.parked == 1
    assert time.monotonic() - started < LOOKUP_TIMEOUT_S
