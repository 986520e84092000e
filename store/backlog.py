"""Call-path writes that outlive a database outage: kept in order, replayed when the database answers again.

Runs only on the store's writer thread, so it needs no locks of its own. A write is *parked* when the
database cannot be reached (connection refused, dropped, pool exhausted); once anything is parked, later
writes queue behind it, so a call's row is always written before its segments and events. A write that
fails for any other reason (a constraint, a bug) is not retried: retrying it forever would block every
write behind it.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import pickle
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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


SPILL_FORMAT = "hotline-spill"
_SPILLABLE: dict[str, type] = {}  # record types a spill file may hold, by name (see :func:`spillable`)
T = TypeVar("T", bound=type)


def spillable(name: str) -> Callable[[T], T]:
    """Allow a record dataclass as an argument of parked writes in spill files, under the stable ``name``."""

    def register(cls: T) -> T:
        _SPILLABLE[name] = cls
        cls.__spill_name__ = name  # type: ignore[attr-defined]
        return cls

    return register


class SpillFormatError(ValueError):
    """A spill file (or a value to spill) that is not what :meth:`Backlog.spill` writes."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"spill file: {what}: {reason}")
        self.what = what
        self.reason = reason


def _encode(value: Any) -> Any:
    """JSON-ready form of a parked write's argument; tagged objects for what JSON lacks."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: _encode(v) for k, v in value.items()}}
    name = getattr(type(value), "__spill_name__", None)
    if name is not None and dataclasses.is_dataclass(value):
        return {"$record": name, "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise SpillFormatError(type(value).__name__, "a parked write's argument of a type spill files do not hold")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    if "$tuple" in value:
        return tuple(_decode(v) for v in value["$tuple"])
    if "$dict" in value:
        return {k: _decode(v) for k, v in value["$dict"].items()}
    if "$record" in value:
        cls = _SPILLABLE.get(value["$record"])
        if cls is None:
            raise SpillFormatError(str(value["$record"]), "not a record type spill files hold")
        return cls(**{k: _decode(v) for k, v in value.get("fields", {}).items()})
    raise SpillFormatError(str(sorted(value)), "an object without a known tag")


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
        """Save what is still parked to ``path`` (at shut-down) as JSON (tagged datetimes, bytes, tuples and
        :func:`spillable` records; never a pickle); returns how many writes were saved."""
        if not self._items:
            return 0
        writes = []
        for w in self._items:
            try:
                writes.append({"name": w.name, "args": _encode(w.args), "kwargs": _encode(w.kwargs)})
            except SpillFormatError as exc:  # lose this one write, not the whole backlog
                log.error("parked write %s cannot be saved and is lost: %s", w.name, exc)
        if not writes:
            return 0
        data = json.dumps({"format": SPILL_FORMAT, "version": 1, "writes": writes}, ensure_ascii=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(path)
        return len(writes)

    def restore(self, path: Path) -> int:
        """Queue writes spilled by an earlier run (they go before anything new); the file is removed. Files of
        earlier versions, pickles of the allowed classes only, still load."""
        if not path.exists():
            return 0
        raw = path.read_bytes()
        items = _load_json(raw) if raw.lstrip().startswith(b"{") else _SpillUnpickler(io.BytesIO(raw)).load()
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


def _load_json(raw: bytes) -> list[ParkedWrite]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpillFormatError("the file", f"not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != SPILL_FORMAT or doc.get("version") != 1:
        raise SpillFormatError("the file", f"not a version-1 {SPILL_FORMAT} document")
    items = []
    for w in doc.get("writes", []):
        kwargs = _decode(w.get("kwargs", {"$dict": {}}))
        items.append(ParkedWrite(str(w["name"]), tuple(_decode(w.get("args", {"$tuple": []}))), dict(kwargs)))
    return items


class _SpillUnpickler(pickle.Unpickler):
    """Loads spill files written before they were JSON: only what :meth:`Backlog.spill` pickled then; classes
    of the old ``api`` package load under their new names."""

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
