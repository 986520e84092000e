"""The migrations build exactly the schema the ORM declares (SQLite and PostgreSQL), and revision 0006 (key
expiry) goes down and up again without losing keys or reviving expired ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, inspect

from store.schema import Base
from store.schema import base as schema_base

pytest_plugins = ["tests.support.databases"]  # any_store, sqlite_store (SQLite / PostgreSQL)

# Revision 0001 made these TIMESTAMP WITH TIME ZONE on PostgreSQL, while UTCDateTime is a plain DateTime (naive
# UTC). Known and older than this test; every other difference, and any on SQLite, fails it.
OLD_TIMESTAMPTZ = {("api_keys", "created_at"), ("call_events", "at"), ("calls", "started_at"),
                   ("calls", "answered_at"), ("calls", "ended_at"), ("transcript_segments", "created_at")}


def _known(diff: object) -> bool:
    if not (isinstance(diff, tuple) and diff and diff[0] == "modify_type"):
        return False
    _, _schema, table, column, _info, old, _new = diff
    return (table, column) in OLD_TIMESTAMPTZ and isinstance(old, DateTime) and bool(old.timezone)


def test_migrations_match_the_orm_schema(any_store):
    with any_store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diffs = compare_metadata(ctx, Base.metadata)
    flat = [d for item in diffs for d in (item if isinstance(item, list) else [item])]
    unexpected = [d for d in flat if not (any_store.engine.dialect.name == "postgresql" and _known(d))]
    assert unexpected == []


def test_key_columns_are_nullable(any_store):
    columns = {c["name"]: c for c in inspect(any_store.engine).get_columns("api_keys")}
    assert columns["expires_at"]["nullable"] and columns["revoked_at"]["nullable"]


def _alembic(store, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(schema_base.__file__).parent.parent / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def test_0006_down_and_up_keeps_keys_and_does_not_revive_expired_ones(any_store):
    store = any_store
    plain = store.keys.create("agent", "plain")
    expired = store.keys.create("agent", "expired", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    later = store.keys.create("agent", "later", expires_at=datetime.now(UTC) + timedelta(days=1))
    revoked = store.keys.create("agent", "revoked")
    store.keys.revoke(revoked.split("_")[1])
    _alembic(store, "downgrade", "0005")
    assert {c["name"] for c in inspect(store.engine).get_columns("api_keys")}.isdisjoint({"expires_at", "revoked_at"})
    _alembic(store, "upgrade", "head")
    assert store.keys.authenticate(plain) is not None
    assert store.keys.authenticate(later) is not None  # its expiry is lost with the column: it never expires now
    assert store.keys.authenticate(expired) is None  # the downgrade revoked it
    assert store.keys.authenticate(revoked) is None
    statuses = {r.name: r.status(datetime.now(UTC)) for r in store.keys.all(include_inactive=True)}
    assert statuses == {"plain": "active", "expired": "revoked", "later": "active", "revoked": "revoked"}
