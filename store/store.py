"""The call store: typed reads and writes; SQLAlchemy rows never leave this module."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from core.clock import utcnow
from core.roles import ROLES, Principal, UnknownRoleError
from store.agents import AgentStoreMixin
from store.backlog import Backlog, ParkedWrite, StoreUnavailableError
from store.calls import CallRecord, SegmentRecord, _call
from store.customers import CustomerStoreMixin
from store.keys import hash_key
from store.profiles import ProfileStoreMixin
from store.schema import ApiKey, Call, CallEventRow, TranscriptSegment, make_engine, migrate

T = TypeVar("T")
log = logging.getLogger("hotline.store")
def _log_failure(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("store write failed: %s", fut.exception())


class Store(CustomerStoreMixin, AgentStoreMixin, ProfileStoreMixin):
    """All persistence. Writes go through one thread so SQLite never sees concurrent writers."""

    def __init__(self, url: str, spill_path: Path | None = None, retry_s: float = 1.0) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="store")
        self._backlog = Backlog(self, self._backlog_size)
        self._spill_path = spill_path
        self._retry_s = retry_s
        self._retrying: threading.Thread | None = None
        self._closing = threading.Event()
        self.parked = 0  # writes waiting for the database (read from any thread)

    def migrate(self) -> None:
        """Create or upgrade the schema."""
        migrate(self.engine)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[bool]:
        """Queue a write (a method of this store) on the writer thread now; writes run in submission order.

        The future says True once the write is committed, False when the database could not be reached and
        the write is parked: it is replayed, in order, as soon as the database answers again (and spilled to
        disk at shut-down if it never does). Nobody has to await it; other failures are logged.
        """
        if getattr(fn, "__self__", None) is not self:
            raise TypeError(f"submit() takes a method of this store, not {fn!r}")
        item = ParkedWrite(fn.__name__, args, kwargs)
        fut = asyncio.get_running_loop().run_in_executor(self._writer, self._backlog.write, item)
        fut.add_done_callback(_log_failure)
        return fut

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store method on the writer thread, after every parked write.

        Raises StoreUnavailableError at once while writes are parked: nothing reads or writes around them.
        """
        return await asyncio.get_running_loop().run_in_executor(self._writer, partial(self._behind_backlog, fn,
                                                                                      *args, **kwargs))

    def restore_backlog(self) -> int:
        """Queue writes a previous run spilled at shut-down; they are replayed before anything new."""
        if self._spill_path is None:
            return 0
        count = self._writer.submit(self._backlog.restore, self._spill_path).result()
        if count:
            log.warning("%d write(s) from the previous run's database outage are queued for replay", count)
            self._writer.submit(self._backlog.drain).result()
        return count

    def close(self) -> None:
        """Finish pending writes, save any that the database could not take, dispose the engine."""
        if self._closing.is_set():
            return  # closed already
        self._closing.set()
        self._writer.submit(self._settle).result()  # after every write queued before close()
        self._writer.shutdown(wait=True)
        self.engine.dispose()

    def _behind_backlog(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if len(self._backlog):  # fail fast; the retry loop replays the parked writes first
            raise StoreUnavailableError(len(self._backlog), self._backlog.last_error)
        return fn(*args, **kwargs)

    # the methods below run on the writer thread, so the retry thread's start and end cannot race
    def _settle(self) -> None:
        if not len(self._backlog) or self._backlog.drain():
            return
        if self._spill_path is None:
            log.error("database unavailable at shut-down: %d write(s) are lost", len(self._backlog))
            return
        saved = self._backlog.spill(self._spill_path)
        log.error("database unavailable at shut-down: %d write(s) saved to %s for the next start", saved,
                  self._spill_path)

    def _backlog_size(self, size: int) -> None:
        self.parked = size
        if size and self._retrying is None and not self._closing.is_set():
            self._retrying = threading.Thread(target=self._retry_loop, name="store-retry", daemon=True)
            self._retrying.start()

    def _drained(self) -> bool:
        if not self._backlog.drain():
            return False
        self._retrying = None
        return True

    def _retry_loop(self) -> None:
        """Replay parked writes every ``retry_s`` until none are left (then the thread ends)."""
        while not self._closing.wait(self._retry_s):
            try:
                if self._writer.submit(self._drained).result():
                    return
            except RuntimeError:  # the writer shut down
                return

    # -- calls -----------------------------------------------------------------
    def create_call(self, call_id: str, sip_call_id: str, caller: str | None, display: str | None,
                    called: str | None, language: str | None) -> None:
        """Insert a new call row."""
        with self.sessions.begin() as s:
            s.add(Call(id=call_id, sip_call_id=sip_call_id, caller_number=caller, caller_display=display,
                       called_number=called, language=language, state="offered", started_at=utcnow(),
                       recognition="pending"))

    def update_call(self, call_id: str, **values: Any) -> None:
        """Update columns of a call."""
        with self.sessions.begin() as s:
            row = s.get(Call, call_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)

    def add_segment(self, call_id: str, seg: SegmentRecord) -> None:
        """Commit one final segment now."""
        with self.sessions.begin() as s:
            s.add(TranscriptSegment(call_id=call_id, leg=seg.leg, start=seg.start, end=seg.end, text=seg.text,
                                    words=seg.words, confidence=seg.confidence, created_at=utcnow()))

    def add_event(self, call_id: str, kind: str, data: dict[str, Any]) -> None:
        """Append to the call's timeline."""
        with self.sessions.begin() as s:
            s.add(CallEventRow(call_id=call_id, type=kind, data=data, at=utcnow()))

    def get_call(self, call_id: str) -> CallRecord | None:
        """One call, or None."""
        with self.sessions() as s:
            row = s.get(Call, call_id)
            return _call(row) if row is not None else None

    def list_calls(self, number: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   limit: int = 50, offset: int = 0) -> tuple[int, list[CallRecord]]:
        """Calls, newest first, filtered by caller or called number and start time."""
        q = select(Call)
        if number:
            q = q.where((Call.caller_number == number) | (Call.called_number == number))
        if since:
            q = q.where(Call.started_at >= since)
        if until:
            q = q.where(Call.started_at < until)
        with self.sessions() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(Call.started_at.desc(), Call.id).limit(limit).offset(offset)).all()
            return total, [_call(r) for r in rows]

    def transcript(self, call_id: str) -> list[SegmentRecord]:
        """Final segments ordered by start time."""
        with self.sessions() as s:
            rows = s.scalars(select(TranscriptSegment).where(TranscriptSegment.call_id == call_id)
                             .order_by(TranscriptSegment.start, TranscriptSegment.id)).all()
            return [SegmentRecord(r.leg, r.start, r.end, r.text, r.confidence, list(r.words or [])) for r in rows]

    def events(self, call_id: str) -> list[dict[str, Any]]:
        """The call's timeline."""
        with self.sessions() as s:
            rows = s.scalars(select(CallEventRow).where(CallEventRow.call_id == call_id)
                             .order_by(CallEventRow.id)).all()
            return [{"type": r.type, "at": r.at.isoformat(), **(r.data or {})} for r in rows]

    # -- API keys --------------------------------------------------------------
    def create_key(self, role: str, name: str | None = None) -> str:
        """Create a key; the plaintext is returned once and never stored."""
        if role not in ROLES:
            raise UnknownRoleError(role)
        prefix = secrets.token_hex(4)
        key = f"hk_{prefix}_{secrets.token_urlsafe(32)}"
        with self.sessions.begin() as s:
            s.add(ApiKey(prefix=prefix, key_hash=hash_key(key), role=role, name=name, created_at=utcnow(),
                         revoked=False))
        return key

    def authenticate(self, key: str) -> Principal | None:
        """The principal for a presented key, or None."""
        with self.sessions() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked.is_(False))).first()
            return Principal(row.id, row.role, row.name) if row is not None else None
