"""The write backlog on its own: order, replay, what is and is not parked, spill and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from store.backlog import Backlog, ParkedWrite, StoreUnavailableError, is_unavailable


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
    backlog = Backlog(db)
    assert backlog.write(ParkedWrite("insert", (1,), {"tag": "a"})) is True
    assert db.rows == [("a", 1)] and len(backlog) == 0


def test_writes_are_parked_in_order_and_replayed_when_the_database_is_back():
    db, sizes = FakeDatabase(), []
    backlog = Backlog(db, sizes.append)
    db.down = True
    assert [backlog.write(ParkedWrite("insert", (n,))) for n in range(3)] == [False, False, False]
    assert len(backlog) == 3 and "connection refused" in backlog.last_error
    assert backlog.drain() is False and db.rows == []
    db.down = False
    assert backlog.drain() is True
    assert db.rows == [("", 0), ("", 1), ("", 2)] and sizes[-1] == 0


def test_a_new_write_waits_behind_parked_ones_even_when_the_database_is_back():
    db = FakeDatabase()
    backlog = Backlog(db)
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
    backlog = Backlog(db)
    with pytest.raises(IntegrityError):
        backlog.write(ParkedWrite("insert", (7,)))
    assert len(backlog) == 0


def test_a_parked_write_that_fails_for_another_reason_on_replay_is_dropped_and_the_rest_go_on():
    db = FakeDatabase()
    backlog = Backlog(db)
    db.down = True
    for n in (1, 2, 3):
        backlog.write(ParkedWrite("insert", (n,)))
    db.down, db.broken = False, {2}
    assert backlog.drain() is True
    assert [v for _, v in db.rows] == [1, 3]


def test_spill_then_restore_keeps_order_and_goes_before_new_writes(tmp_path: Path):
    db = FakeDatabase()
    first = Backlog(db)
    db.down = True
    for n in (1, 2):
        first.write(ParkedWrite("insert", (n,), {"tag": "old"}))
    path = tmp_path / "spill" / "backlog.pickle"
    assert first.spill(path) == 2 and path.exists()
    second = Backlog(db)
    second.write(ParkedWrite("insert", (3,), {"tag": "new"}))  # still down: parked
    assert second.restore(path) == 2 and not path.exists()
    db.down = False
    assert second.drain() is True
    assert db.rows == [("old", 1), ("old", 2), ("new", 3)]


def test_nothing_to_spill_writes_no_file(tmp_path: Path):
    assert Backlog(FakeDatabase()).spill(tmp_path / "b.pickle") == 0
    assert not (tmp_path / "b.pickle").exists()
    assert Backlog(FakeDatabase()).restore(tmp_path / "b.pickle") == 0


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
