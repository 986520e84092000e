"""Fresh migrated stores on SQLite or on one shared throwaway PostgreSQL cluster (a new database per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from store.store import Store
from tests.support.postgres import postgres_cluster

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster_url() -> Iterator[str]:
    """One PostgreSQL cluster for the session (its ``hotline`` database is only used to create others)."""
    with postgres_cluster() as url:
        yield url


def new_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    base: str = request.getfixturevalue("pg_cluster_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on SQLite, then on PostgreSQL."""
    store = Store(new_database_url(request.param, tmp_path, request))
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a SQLite file."""
    store = Store(f"sqlite:///{tmp_path / 'hotline.db'}")
    store.migrate()
    yield store
    store.close()
