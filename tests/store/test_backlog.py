"""The write backlog on its own: order, replay, what is and is not parked, spill and restore."""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from store.backlog import (
    Backlog,
    ParkedWrite,
    StoreUnavailableError,
    UnknownWriteError,
    is_unavailable,
    parkable,
    parkable_name,
)
from store.calls import SegmentRecord


class FakeDatabase:
    """A fake write target: records writes, or refuses connections while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.rows: list[tuple[str, Any]] = []
        self.broken: set[Any] = set()

    def insert(self, value: Any, tag: str = "") -> None:
        if self.down:
            raise OperationalError(None, None, ConnectionRefusedError("connection refused"))
        if value in self.broken:
            raise IntegrityError("INSERT INTO t VALUES (?)", (value,), ValueError("duplicate key"))
        self.rows.append((tag, value))


def test_writes_go_straight_through_while_the_database_is_up():
    db = FakeDatabase()
    backlog = Backlog({"insert": db.insert})
    assert backlog.write(ParkedWrite("insert", (1,), {"tag": "a"})) is True
    assert db.rows == [("a", 1)] and len(backlog) == 0


def test_writes_are_parked_in_order_and_replayed_when_the_database_is_back():
    db, sizes = FakeDatabase(), []
    backlog = Backlog({"insert": db.insert}, sizes.append)
    db.down = True
    assert [backlog.write(ParkedWrite("insert", (n,))) for n in range(3)] == [False, False, False]
    assert len(backlog) == 3 and "connection refused" in backlog.last_error
    assert backlog.drain() is False and db.rows == []
    db.down = False
    assert backlog.drain() is True
    assert db.rows == [("", 0), ("", 1), ("", 2)] and sizes[-1] == 0


def test_a_new_write_waits_behind_parked_ones_even_when_the_database_is_back():
    db = FakeDatabase()
    backlog = Backlog({"insert": db.insert})
    db.down = True
    backlog.write(ParkedWrite("insert", ("first",)))
    db.down = False
    assert backlog.write(ParkedWrite("insert", ("second",))) is False  # queued behind, not run around it
    assert db.rows == []
    assert backlog.drain() is True
    assert [v for _, v in db.rows] == ["first", "second"]


def test_a_statement_error_is_raised_not_parked():
    db = FakeDatabase()
    db.broken.add(7)
    backlog = Backlog({"insert": db.insert})
    with pytest.raises(IntegrityError):
        backlog.write(ParkedWrite("insert", (7,)))
    assert len(backlog) == 0


def test_a_parked_write_that_fails_for_another_reason_on_replay_is_dropped_and_the_rest_go_on():
    db = FakeDatabase()
    backlog = Backlog({"insert": db.insert})
    db.down = True
    for n in (1, 2, 3):
        backlog.write(ParkedWrite("insert", (n,)))
    db.down, db.broken = False, {2}
    assert backlog.drain() is True
    assert [v for _, v in db.rows] == [1, 3]


def test_spill_then_restore_keeps_order_and_goes_before_new_writes(tmp_path: Path):
    db = FakeDatabase()
    first = Backlog({"insert": db.insert})
    db.down = True
    for n in (1, 2):
        first.write(ParkedWrite("insert", (n,), {"tag": "old"}))
    path = tmp_path / "spill" / "backlog.json"
    assert first.spill(path) == 2 and path.exists()
    second = Backlog({"insert": db.insert})
    second.write(ParkedWrite("insert", (3,), {"tag": "new"}))  # still down: parked
    assert second.restore(path) == 2 and not path.exists()
    db.down = False
    assert second.drain() is True
    assert db.rows == [("old", 1), ("old", 2), ("new", 3)]


def test_a_spill_file_is_json_with_tagged_records_never_a_pickle(tmp_path: Path):
    import json
    from datetime import UTC, datetime

    from store.calls import SegmentRecord
    from store.voiceprints import ReplayPrintRecord

    when = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    segment = SegmentRecord("caller", 0.5, 1.5, "моя картка", 0.9, [{"word": "моя", "start": 0.5}])
    prints = ReplayPrintRecord("c1", "call", "call x", "x", "k1", b"\x00\xffsealed", when)
    writes = [ParkedWrite("calls.add_segment", ("x", segment)), ParkedWrite("replay.add", (prints,)),
              ParkedWrite("calls.update", ("x",), {"ended_at": when, "legs": ("caller", "agent"), "n": None})]
    db = FakeDatabase()
    db.down = True
    first = Backlog({"insert": db.insert})
    for w in writes:
        first._park(w)
    path = tmp_path / "backlog.json"
    assert first.spill(path) == 3
    doc = json.loads(path.read_text(encoding="utf-8"))  # JSON, readable, no pickle opcodes
    assert doc["format"] == "hotline-spill" and [w["name"] for w in doc["writes"]] == [w.name for w in writes]
    second = Backlog({})
    assert second.restore(path) == 3
    assert [(w.name, w.args, w.kwargs) for w in second._items] == [(w.name, w.args, w.kwargs) for w in writes]


def test_a_json_spill_naming_an_unknown_record_or_holding_an_unknown_type_is_refused(tmp_path: Path):
    from store.backlog import SpillFormatError

    path = tmp_path / "evil.json"
    path.write_text('{"format": "hotline-spill", "version": 1, "writes": [{"name": "calls.update", '
                    '"args": {"$tuple": [{"$record": "os.system", "fields": {}}]}}]}')
    with pytest.raises(SpillFormatError, match=r"os\.system"):
        Backlog({}).restore(path)
    backlog = Backlog({})
    backlog._park(ParkedWrite("calls.update", (object(),)))  # a bug: an argument no spill file holds
    backlog._park(ParkedWrite("calls.update", ("c1",), {"state": "ended"}))
    assert backlog.spill(tmp_path / "b.json") == 1  # that one write is lost (and logged), not the backlog
    restored = Backlog({})
    assert restored.restore(tmp_path / "b.json") == 1 and restored._items[0].kwargs == {"state": "ended"}


def test_nothing_to_spill_writes_no_file(tmp_path: Path):
    assert Backlog({}).spill(tmp_path / "b.pickle") == 0
    assert not (tmp_path / "b.pickle").exists()
    assert Backlog({}).restore(tmp_path / "b.pickle") == 0


def test_what_counts_as_unavailable():
    assert is_unavailable(OperationalError(None, None, ConnectionRefusedError()))  # while connecting
    dropped = OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)
    assert is_unavailable(dropped)
    assert is_unavailable(StoreUnavailableError(3, "refused"))
    assert not is_unavailable(OperationalError("SELECT * FROM nope", {}, Exception("no such table: nope")))
    for sqlite_trouble in ("database or disk is full", "disk I/O error", "database is locked"):
        assert is_unavailable(OperationalError("INSERT INTO calls", {}, Exception(sqlite_trouble)))
    assert not is_unavailable(ProgrammingError("SELECT", {}, Exception("syntax error")))
    assert not is_unavailable(ValueError("x"))


def test_the_unavailable_error_carries_its_data():
    exc = StoreUnavailableError(4, "connection refused")
    assert (exc.pending, exc.cause) == (4, "connection refused")
    assert "4 write(s)" in str(exc)


def test_a_write_with_an_unknown_name_is_refused_with_its_name():
    with pytest.raises(UnknownWriteError) as err:
        Backlog({}).write(ParkedWrite("calls.nope", ()))
    assert err.value.name == "calls.nope"


def test_parkable_names_are_read_from_functions_and_bound_methods():
    class Repo:
        @parkable("things.add")
        def add(self) -> None: ...

        def read(self) -> None: ...

    assert parkable_name(Repo().add) == parkable_name(Repo.add) == "things.add"
    assert parkable_name(Repo().read) is None and parkable_name(print) is None


def _old_api_classes(monkeypatch) -> tuple[type, type]:
    """Classes named as the old ``api`` package named them, so pickle writes the old paths (as old spills have)."""
    api, backlog_mod, store_mod = (types.ModuleType(n) for n in ("api", "api.store_backlog", "api.store"))

    @dataclasses.dataclass(slots=True)
    class ParkedWrite:  # the old api.store_backlog.ParkedWrite: method name, args, kwargs
        method: str
        args: tuple[Any, ...]
        kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)

    @dataclasses.dataclass(frozen=True, slots=True)
    class SegmentRecord:  # the old api.store.SegmentRecord
        leg: str
        start: float
        end: float
        text: str
        confidence: float
        words: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    for cls, mod in ((ParkedWrite, backlog_mod), (SegmentRecord, store_mod)):
        cls.__module__, cls.__qualname__ = mod.__name__, cls.__name__
        setattr(mod, cls.__name__, cls)
    for mod in (api, backlog_mod, store_mod):
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
    return ParkedWrite, SegmentRecord


def test_a_spill_file_of_the_old_api_package_still_loads_under_the_stable_names(tmp_path: Path, monkeypatch):
    OldWrite, OldSegment = _old_api_classes(monkeypatch)
    path = tmp_path / "old.pickle"
    path.write_bytes(pickle.dumps([OldWrite("create_call", ("c1", "sip-1", "+380441234567", None, "100", "uk")),
                                   OldWrite("add_segment", ("c1", OldSegment("caller", 0.1, 0.9, "hello", 0.9))),
                                   OldWrite("update_call", ("c1",), {"state": "ended"})]))
    monkeypatch.delitem(sys.modules, "api")  # the old package is gone, as after an upgrade
    done: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    writes = {name: (lambda *a, _n=name, **k: done.append((_n, a, k)))
              for name in ("calls.create", "calls.add_segment", "calls.update")}
    backlog = Backlog(writes)
    assert backlog.restore(path) == 3
    assert backlog.drain() is True
    assert [name for name, _, _ in done] == ["calls.create", "calls.add_segment", "calls.update"]
    segment = done[1][1][1]
    assert isinstance(segment, SegmentRecord) and segment.text == "hello"
    assert done[2][2] == {"state": "ended"}


def test_a_spill_file_naming_anything_else_is_refused(tmp_path: Path):
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps([ParkedWrite("calls.update", (os.getcwd,))]))
    with pytest.raises(pickle.UnpicklingError, match=r"does not hold posix\.getcwd"):
        Backlog({}).restore(path)
