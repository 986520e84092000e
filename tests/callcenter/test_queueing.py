"""Queue order and agent choice (pure): FIFO with priority, longest idle, skills, missed agents."""

from __future__ import annotations

from callcenter.board import AgentBoard, AgentInfo
from callcenter.presence import AgentState
from callcenter.queueing import CallQueue, Waiting, match
from callcenter.settings import QueueSettings

GENERAL = QueueSettings(name="general")
CARDS = QueueSettings(name="cards", skills=["cards"])
UK = QueueSettings(name="uk", language="uk")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def board_with(*agents: tuple[str, tuple[str, ...], tuple[str, ...]]) -> tuple[AgentBoard, Clock]:
    clock = Clock()
    board = AgentBoard(clock)
    for name, langs, skills in agents:
        board.sync(AgentInfo(name, name, name, langs, skills))
        clock.t += 1
        board.registered(name, True)  # registration order = idle order
    return board, clock


def test_fifo_and_longest_idle_with_three_agents_five_callers() -> None:
    board, clock = board_with(("a1", (), ()), ("a2", (), ()), ("a3", (), ()))
    queue = CallQueue()
    for i in range(5):
        queue.add(Waiting(f"c{i}", GENERAL, clock.t, clock.t))
    pairs = match(queue, board)
    assert [(w.call_id, a.agent_id) for w, a in pairs] == [("c0", "a1"), ("c1", "a2"), ("c2", "a3")]


def test_priority_caller_served_first() -> None:
    board, _ = board_with(("a1", (), ()))
    queue = CallQueue()
    queue.add(Waiting("plain", GENERAL, 0, 0))
    queue.add(Waiting("vip", GENERAL, 1, 1, priority=1))
    assert [w.call_id for w, _ in match(queue, board)] == ["vip"]
    assert queue.position("vip") == 1 and queue.position("plain") == 2


def test_skills_and_language_do_not_block_later_callers() -> None:
    board, _ = board_with(("gen", ("en",), ()), ("ukr", ("uk",), ()))
    queue = CallQueue()
    queue.add(Waiting("needs-cards", CARDS, 0, 0))
    queue.add(Waiting("needs-uk", UK, 1, 1))
    queue.add(Waiting("anyone", GENERAL, 2, 2))
    pairs = {w.call_id: a.agent_id for w, a in match(queue, board)}
    assert pairs == {"needs-uk": "ukr", "anyone": "gen"}


def test_agent_who_missed_is_last_resort() -> None:
    board, _ = board_with(("a1", (), ()), ("a2", (), ()))
    queue = CallQueue()
    entry = queue.add(Waiting("c", GENERAL, 0, 0))
    entry.missed_by.add("a1")
    assert [a.agent_id for _, a in match(queue, board)] == ["a2"]
    board.move(board.get("a2"), AgentState.AWAY)
    assert [a.agent_id for _, a in match(queue, board)] == ["a1"]


def test_requeued_caller_keeps_place() -> None:
    queue = CallQueue()
    first = queue.add(Waiting("first", GENERAL, 0, 0))
    queue.add(Waiting("second", GENERAL, 1, 1))
    queue.remove("first")
    queue.add(first)
    assert [w.call_id for w in queue.ordered()] == ["first", "second"]


def test_transfer_target_only_that_agent() -> None:
    board, _ = board_with(("a1", (), ()), ("a2", (), ()))
    queue = CallQueue()
    queue.add(Waiting("c", GENERAL, 0, 0, target_agent="a2"))
    assert [a.agent_id for _, a in match(queue, board)] == ["a2"]
    board.move(board.get("a2"), AgentState.AWAY)
    assert match(queue, board) == []
