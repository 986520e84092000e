"""The store: one database and its repositories, each owning one aggregate's reads and writes.

``store.calls``, ``store.customers``, ``store.timeline``, ``store.agents``, ``store.voiceprints``, ``store.replay``,
``store.audit``, ``store.keys`` and ``store.outbox`` share one :class:`store.database.Database` (its engine,
writer thread and outage backlog). SQLAlchemy rows never leave the package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.agents import AgentRepository
from store.audit import AuditRepository
from store.calls import CallRepository
from store.customers import CustomerRepository
from store.database import Database
from store.keys import KeyRepository
from store.outbox import OutboxRepository
from store.timeline import TimelineRepository
from store.voiceprints import ReplayPrintRepository, VoiceprintRepository

T = TypeVar("T")


class Store:
    """All persistence, by aggregate. Writes go through the database's single writer thread."""

    def __init__(self, url: str, spill_path: Path | None = None, retry_s: float = 1.0) -> None:
        self.db = Database(url, spill_path, retry_s)
        sessions = self.db.sessions
        self.outbox = OutboxRepository(sessions)
        self.calls = CallRepository(sessions)
        self.keys = KeyRepository(sessions)
        self.agents = AgentRepository(sessions)
        self.customers = CustomerRepository(sessions, self.outbox)
        self.voiceprints = VoiceprintRepository(sessions)
        self.replay = ReplayPrintRepository(sessions)
        self.audit = AuditRepository(sessions)
        self.timeline = TimelineRepository(sessions, self.outbox)
        for repository in (self.calls, self.timeline, self.audit, self.replay):
            self.db.register(repository)

    @property
    def url(self) -> str:
        """The database URL."""
        return self.db.url

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        return self.db.engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Session factory (for repositories and tests; handlers go through the repositories)."""
        return self.db.sessions

    @property
    def parked(self) -> int:
        """Writes waiting for the database to answer again."""
        return self.db.parked

    def migrate(self) -> None:
        """Create or upgrade the schema."""
        self.db.migrate()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[bool]:
        """Queue a parkable write (e.g. ``store.calls.update``): see :meth:`store.database.Database.submit`."""
        return self.db.submit(fn, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read or write on the writer thread, behind parked writes: see :meth:`Database.run`."""
        return await self.db.run(fn, *args, **kwargs)

    def restore_backlog(self) -> int:
        """Queue the writes a previous run spilled at shut-down."""
        return self.db.restore_backlog()

    def close(self) -> None:
        """Finish pending writes, spill what the database could not take, dispose the engine."""
        self.db.close()
