"""Call-path writes that outlive a database outage: kept in order, replayed when the database answers again.

Runs only on the store's writer thread, so it needs no locks of its own. A write is *parked* when the
database cannot be reached (connection refused, dropped, pool exhausted); once anything is parked, later
writes queue behind it, so a call's row is always written before its segments and events. A write that
fails for any other reason (a constraint, a bug) is not retried: retrying it forever would block every
write behind it.
"""

from __future__ import annotations

import logging
import pickle
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = logging.getLogger("hotline.store")


class StoreUnavailableError(RuntimeError):
    """The database cannot be reached; ``pending`` writes wait to be replayed."""

    def __init__(self, pending: int, cause: str) -> None:
        super().__init__(f"the database is unavailable ({cause}); {pending} write(s) wait to be replayed")
        self.pending = pending
        self.cause = cause


# SQLite's file-level failures: the statement is fine, the disk or the file is not (yet) usable
_SQLITE_ENVIRONMENT = ("database or disk is full", "disk i/o error", "unable to open database file",
                       "database is locked")


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database could not be reached, not that the statement was wrong."""
    if isinstance(exc, PoolTimeoutError | StoreUnavailableError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    # no statement: the failure happened while connecting; invalidated: the connection dropped mid-way
    if exc.connection_invalidated or exc.statement is None:
        return True
    return isinstance(exc, OperationalError) and any(m in str(exc.orig).lower() for m in _SQLITE_ENVIRONMENT)


@dataclass(slots=True)
class ParkedWrite:
    """One store method call waiting for the database: the method by name, so it can be spilled to disk."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


class Backlog:
    """Ordered writes the database could not take yet (writer thread only)."""

    def __init__(self, target: object, on_size: Callable[[int], None] = lambda n: None) -> None:
        self._target = target
        self._items: deque[ParkedWrite] = deque()
        self._on_size = on_size
        self.last_error = ""

    def __len__(self) -> int:
        return len(self._items)

    def write(self, item: ParkedWrite) -> bool:
        """Write now, or park behind earlier parked writes; True when it reached the database.

        While writes are parked a new one joins them without trying the database: the retry loop replays
        them all, so an unreachable server (a connect timeout) does not hold up every write in turn.
        """
        if self._items:
            self._park(item)
            return False
        try:
            getattr(self._target, item.method)(*item.args, **item.kwargs)
            return True
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self.last_error = _short(exc)
            if not self._items:  # once per outage; the size is on /health and hotline_store_parked_writes
                log.warning("database unavailable (%s): writes are parked for replay, first %s", self.last_error,
                            item.method)
            self._park(item)
            return False

    def drain(self) -> bool:
        """Replay parked writes in order until one cannot reach the database; True when none are left."""
        while self._items:
            item = self._items[0]
            try:
                getattr(self._target, item.method)(*item.args, **item.kwargs)
            except Exception as exc:
                if is_unavailable(exc):
                    self.last_error = _short(exc)
                    return False
                log.exception("parked write %s failed on replay; it is dropped", item.method)
            self._items.popleft()
            self._on_size(len(self._items))
            if not self._items:
                log.info("database available again: every parked write is stored")
        return True

    def spill(self, path: Path) -> int:
        """Save what is still parked to ``path`` (at shut-down); returns how many writes were saved."""
        if not self._items:
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(list(self._items)))
        tmp.replace(path)
        return len(self._items)

    def restore(self, path: Path) -> int:
        """Queue writes spilled by an earlier run (they go before anything new); the file is removed."""
        if not path.exists():
            return 0
        items: list[ParkedWrite] = pickle.loads(path.read_bytes())  # our own file, written by spill()
        self._items.extendleft(reversed(items))
        path.unlink()
        self._on_size(len(self._items))
        return len(items)

    def _park(self, item: ParkedWrite) -> None:
        self._items.append(item)
        self._on_size(len(self._items))


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
