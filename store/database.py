"""One database: the engine, sessions, the single writer thread and the outage backlog.

Every repository works on the same :class:`Database`. Writes that must survive an outage (the call path's)
are *parkable*: they are registered by a stable name (:func:`store.backlog.parkable`) so that a parked write
can be replayed, and spilled to disk, without depending on Python method names.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from store.backlog import Backlog, ParkedWrite, StoreUnavailableError, parkable_name
from store.schema import make_engine, migrate

T = TypeVar("T")
log = logging.getLogger("hotline.store")


class NotParkableError(TypeError):
    """``submit`` was given a function that is not a registered parkable write."""

    def __init__(self, fn: object) -> None:
        super().__init__(f"submit() takes a parkable write of a repository of this store, not {fn!r}")
        self.fn = fn


def _log_failure(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("store write failed: %s", fut.exception())


class _Writes(Mapping[str, Callable[..., Any]]):
    """Parkable writes by stable name, looked up on their repository when called (so they stay patchable)."""

    def __init__(self) -> None:
        self.owners: dict[str, tuple[object, str]] = {}

    def __getitem__(self, name: str) -> Callable[..., Any]:
        owner, attr = self.owners[name]
        fn: Callable[..., Any] = getattr(owner, attr)
        return fn

    def __iter__(self) -> Iterator[str]:
        return iter(self.owners)

    def __len__(self) -> int:
        return len(self.owners)


class Database:
    """The engine and the writer thread. Writes go through one thread so SQLite never sees concurrent writers."""

    def __init__(self, url: str, spill_path: Path | None = None, retry_s: float = 1.0) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = _Writes()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="store")
        self._backlog = Backlog(self._writes, self._backlog_size)
        self._spill_path = spill_path
        self._retry_s = retry_s
        self._retrying: threading.Thread | None = None
        self._closing = threading.Event()
        self.parked = 0  # writes waiting for the database (read from any thread)

    def register(self, repository: object) -> None:
        """Make the parkable writes of ``repository`` replayable by their stable names."""
        for attr in dir(type(repository)):
            name = parkable_name(getattr(type(repository), attr))
            if name is not None:
                if name in self._writes.owners:
                    raise ValueError(f"two parkable writes are named {name!r}")
                self._writes.owners[name] = (repository, attr)

    def migrate(self) -> None:
        """Create or upgrade the schema."""
        migrate(self.engine)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[bool]:
        """Queue a parkable write on the writer thread now; writes run in submission order.

        The future says True once the write is committed, False when the database could not be reached and
        the write is parked: it is replayed, in order, as soon as the database answers again (and spilled to
        disk at shut-down if it never does). Nobody has to await it; other failures are logged.
        """
        name = parkable_name(fn)
        if name is None or name not in self._writes.owners or getattr(fn, "__self__", None) is not \
                self._writes.owners[name][0]:
            raise NotParkableError(fn)
        item = ParkedWrite(name, args, kwargs)
        fut = asyncio.get_running_loop().run_in_executor(self._writer, self._backlog.write, item)
        fut.add_done_callback(_log_failure)
        return fut

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read or write on the writer thread, after every parked write.

        Raises StoreUnavailableError at once while writes are parked: nothing reads or writes around them.
        """
        return await asyncio.get_running_loop().run_in_executor(self._writer, partial(self._behind_backlog, fn,
                                                                                      *args, **kwargs))

    def restore_backlog(self) -> int:
        """Queue writes a previous run spilled at shut-down; they are replayed before anything new."""
        if self._spill_path is None:
            return 0
        legacy = self._spill_path.with_suffix(".pickle")  # where earlier versions spilled by default
        path = legacy if not self._spill_path.exists() and legacy.exists() else self._spill_path
        count = self._writer.submit(self._backlog.restore, path).result()
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
