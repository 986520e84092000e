"""PostgreSQL by URL: migrations, the store, and a real call whose finals land in PostgreSQL."""

from __future__ import annotations

import pytest

from store.calls import SegmentRecord
from store.store import Store
from tests.support.postgres import postgres_cluster
from tests.support.server import phone_call, start_server


@pytest.fixture(scope="module")
def pg_url():
    with postgres_cluster() as url:
        yield url


def test_store_on_postgres(pg_url):
    store = Store(pg_url)
    store.migrate()
    store.migrate()  # idempotent
    store.calls.create("pgcall1", "sip-1", "+380441234567", None, "+380441000000", "ko")
    store.calls.add_segment("pgcall1", SegmentRecord("caller", 0.5, 1.5, "second", 0.8, []))
    store.calls.add_segment("pgcall1", SegmentRecord("caller", 0.1, 0.4, "first", 0.9, [{"word": "first"}]))
    assert [s.text for s in store.calls.transcript("pgcall1")] == ["first", "second"]
    total, calls = store.calls.find(number="+380441234567")
    assert total == 1 and calls[0].started_at.tzinfo is not None
    key = store.keys.create("security", "pg test")
    assert store.keys.authenticate(key).role == "security"
    store.close()


def test_real_call_stored_in_postgres(pg_url, tmp_path, speech_dir):
    server = start_server(tmp_path / "srv", {"store": {"url": pg_url}})
    try:
        outcome = phone_call(server.sip_uri, speech_dir / "ko_two_8k.wav")
        assert outcome["status"] == 200
        call = server.wait_call_ended()[0]
        with server.client() as c:
            segs = c.get(f"/api/v1/calls/{call['id']}/transcript").json()["segments"]
        assert call["sip_call_id"] == outcome["call_id"] and len(segs) == 2
    finally:
        server.stop()
