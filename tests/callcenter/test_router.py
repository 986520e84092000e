"""The router's time rules with a real event loop: offers, misses, wrap-up, overflow, transfer to the head."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.board import AgentBoard, AgentInfo
from callcenter.presence import AgentPresence, AgentState
from callcenter.router import Router
from callcenter.settings import QueueSettings, RoutingSettings


class FakeCall:
    """Stands in for a call service: records offers (a fake: no SIP here)."""

    def __init__(self, call_id: str) -> None:
        self.id = call_id
        self.offers: list[str] = []
        self.moved: list[tuple[str, str]] = []

    def offer(self, agent: AgentPresence) -> None:
        self.offers.append(agent.agent_id)

    def overflowed(self, old: QueueSettings, new: QueueSettings) -> None:
        self.moved.append((old.name, new.name))


def make(**kw: object) -> tuple[Router, AgentBoard]:
    settings = RoutingSettings(**kw)  # type: ignore[arg-type]
    board = AgentBoard()
    return Router(settings, board), board


def agent(board: AgentBoard, name: str) -> AgentPresence:
    board.sync(AgentInfo(name, name, name))
    board.registered(name, True)
    return board.get(name)


@pytest.mark.asyncio
async def test_offer_then_misses_set_agent_away() -> None:
    router, board = make(max_misses=2, wrap_up_s=0.05)
    a = agent(board, "a")
    call = FakeCall("c1")
    entry = router.enqueue(call, router.settings.queue_for(None))
    await asyncio.sleep(0)
    assert call.offers == ["a"] and a.state == AgentState.RINGING
    router.missed(a, "no_answer")
    assert a.state == AgentState.AVAILABLE and a.misses == 1
    router.requeue(entry, "a")
    await asyncio.sleep(0)
    assert call.offers == ["a", "a"]  # the only agent is tried again
    router.missed(a, "no_answer")
    assert a.state == AgentState.AWAY


@pytest.mark.asyncio
async def test_answer_resets_misses_and_wrap_up_returns_agent() -> None:
    router, board = make(wrap_up_s=0.05)
    a = agent(board, "a")
    router.enqueue(FakeCall("c1"), router.settings.queue_for(None))
    await asyncio.sleep(0)
    a.misses = 1
    router.answered(a)
    assert a.state == AgentState.ON_CALL and a.misses == 0
    second = FakeCall("c2")
    router.enqueue(second, router.settings.queue_for(None))
    router.released(a)
    assert a.state == AgentState.WRAP_UP
    await asyncio.sleep(0.02)
    assert second.offers == []  # nobody gets calls during wrap-up
    await asyncio.sleep(0.1)
    assert second.offers == ["a"]


@pytest.mark.asyncio
async def test_overflow_after_max_wait() -> None:
    router, board = make(queues=[QueueSettings(name="general", max_wait_s=0.5, overflow="backup", skills=["x"]),
                                 QueueSettings(name="backup")])
    agent(board, "a")  # no skill x: serves only the backup queue
    router.start()
    call = FakeCall("c1")
    router.enqueue(call, router.settings.queue_for(None))
    await asyncio.sleep(0.05)
    assert call.offers == []
    await asyncio.sleep(1.6)
    assert call.moved == [("general", "backup")] and call.offers == ["a"]
    router.stop()


@pytest.mark.asyncio
async def test_transfer_goes_to_head_of_queue() -> None:
    router, board = make()
    waiting = [FakeCall(f"w{i}") for i in range(3)]
    for c in waiting:
        router.enqueue(c, router.settings.queue_for(None))
    moved = FakeCall("t")
    entry = router.enqueue(moved, router.settings.queue_for(None))
    router.leave("t")
    router.transfer(moved, entry, router.settings.queue_for(None), None)
    assert next(w.call_id for w in router.queue.ordered()) == "t"
    agent(board, "a")
    await asyncio.sleep(0)
    assert moved.offers == ["a"] and all(not c.offers for c in waiting)
