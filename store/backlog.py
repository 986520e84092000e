"""Call-path writes that outlive a database outage: kept in order, replayed when the database answers again.

Runs only on the store's writer thread, so it needs no locks of its own. A write is *parked* when the
database cannot be reached (connection refused, dropped, pool exhausted); once anything is parked, later
writes queue behind it, so a call's row is always written before its segments and events. A write that
fails for any other reason (a constraint, a bug) is not retried: retrying it forever would block every
write behind it.
"""

from __future__ import annotations

import io
import logging
import pickle
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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


F = TypeVar("F", bound=Callable[..., Any])
# Method names of the store before it was split into repositories, as spill files of that time name them.
LEGACY_NAMES = {"create_call": "calls.create", "update_call": "calls.update", "add_segment": "calls.add_segment",
                "add_event": "calls.add_event", "set_call_customer": "calls.set_customer",
                "set_call_verification": "calls.set_verification", "audit": "audit.write",
                "record_voice_interaction": "timeline.record_voice_interaction"}


def parkable(name: str) -> Callable[[F], F]:
    """Mark a repository method as a write that may be parked during an outage, replayed as ``name``.

    The name is part of the spill file format: never reuse one for a write with other arguments.
    """

    def mark(fn: F) -> F:
        fn.__parkable__ = name  # type: ignore[attr-defined]
        return fn

    return mark


def parkable_name(fn: object) -> str | None:
    """The stable name of a parkable write (a function or a bound method), or None."""
    name = getattr(getattr(fn, "__func__", fn), "__parkable__", None)
    return name if isinstance(name, str) else None


class UnknownWriteError(LookupError):
    """A parked write names no registered write (a spill file from another version)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no parkable write is named {name!r}")
        self.name = name


@dataclass(slots=True)
class ParkedWrite:
    """One write waiting for the database: its stable name and arguments, so it can be spilled to disk."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "args": self.args, "kwargs": self.kwargs}

    def __setstate__(self, state: Any) -> None:
        """From a spill file, also one written before writes had stable names (the method name, ``method``)."""
        if isinstance(state, tuple):  # (dict, slots): how pickle saved this slotted class before
            state = {**(state[0] or {}), **(state[1] or {})}
        name = state.get("name", state.get("method"))
        self.name = LEGACY_NAMES.get(name, name)
        self.args = tuple(state.get("args", ()))
        self.kwargs = dict(state.get("kwargs") or {})


class Backlog:
    """Ordered writes the database could not take yet (writer thread only).

    ``writes`` maps stable names to the functions that carry them out.
    """

    def __init__(self, writes: Mapping[str, Callable[..., Any]],
                 on_size: Callable[[int], None] = lambda n: None) -> None:
        self._writes = writes
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
            self._run(item)
            return True
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self.last_error = _short(exc)
            if not self._items:  # once per outage; the size is on /health and hotline_store_parked_writes
                log.warning("database unavailable (%s): writes are parked for replay, first %s", self.last_error,
                            item.name)
            self._park(item)
            return False

    def drain(self) -> bool:
        """Replay parked writes in order until one cannot reach the database; True when none are left."""
        while self._items:
            item = self._items[0]
            try:
                self._run(item)
            except Exception as exc:
                if is_unavailable(exc):
                    self.last_error = _short(exc)
                    return False
                log.exception("parked write %s failed on replay; it is dropped", item.name)
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
        items: list[ParkedWrite] = _SpillUnpickler(io.BytesIO(path.read_bytes())).load()
        self._items.extendleft(reversed(items))
        path.unlink()
        self._on_size(len(self._items))
        return len(items)

    def _run(self, item: ParkedWrite) -> None:
        fn = self._writes.get(item.name)
        if fn is None:
            raise UnknownWriteError(item.name)
        fn(*item.args, **item.kwargs)

    def _park(self, item: ParkedWrite) -> None:
        self._items.append(item)
        self._on_size(len(self._items))


class _SpillUnpickler(pickle.Unpickler):
    """Loads only what :meth:`Backlog.spill` writes; classes of the old ``api`` package load under their new names."""

    ALLOWED = {("store.backlog", "ParkedWrite"), ("store.calls", "SegmentRecord"),
               ("store.voiceprints", "ReplayPrintRecord"), ("datetime", "datetime"), ("datetime", "timezone"),
               ("datetime", "timedelta")}
    ALIASES = {("api.store_backlog", "ParkedWrite"): ("store.backlog", "ParkedWrite"),
               ("api.store", "SegmentRecord"): ("store.calls", "SegmentRecord")}

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a class named in the file, refusing anything a spill file never holds."""
        module, name = self.ALIASES.get((module, name), (module, name))
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"a spill file does not hold {module}.{name}")
        return super().find_class(module, name)


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
