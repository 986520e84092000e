"""The console's building blocks without a server: the agent feed on a real bus and board, sessions, login limits."""

from __future__ import annotations

import asyncio
from typing import Any

from callcenter.board import AgentBoard, AgentInfo
from callcenter.presence import AgentState
from calls.bus import EventBus
from console.feed import AgentFeed
from console.sessions import LoginLimiter, SessionTable
from core.events import (
    AgentConnected,
    CallStateChanged,
    FinalSegment,
    Offered,
    OfferMissed,
    PartialSegment,
    Queued,
    ReasonHeard,
    Transferred,
    VerificationResult,
)
from privacy import PrivacySettings

CARD = "4111 1111 1111 1111"


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now



def _connected(agent_id: str, wait_s: float = 1.0) -> AgentConnected:
    return AgentConnected(agent_id=agent_id, agent_name=agent_id.title(), bridge="relay", wait_s=wait_s,
                          time_to_agent_s=0.02, connected_at=1_765_000_000.0)

def feed_on(bus: EventBus, board: AgentBoard | None = None, keep: int = 5000) -> AgentFeed:
    feed = AgentFeed(bus, PrivacySettings(), lambda call_id: "en", keep=keep)
    feed.attach(board or AgentBoard())
    return feed


def drain(q: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def start_call(bus: EventBus, call: str = "c1") -> None:
    bus.publish(call, CallStateChanged(state="offered", caller="+380441234567", called="+380440000000"))
    bus.publish(call, Queued(queue="general", priority=0, position=1))
    bus.publish(call, FinalSegment(leg="caller", start=0.5, end=2.0, text=f"my card is {CARD}", confidence=0.9,
                words=[]))
    bus.publish(call, ReasonHeard(text=f"my card is {CARD}"))
    bus.publish(call, VerificationResult(decision="not_enrolled", customer_id="cust1", score=None))


def test_offer_replays_the_call_so_far_redacted_then_streams_live():
    bus = EventBus()
    feed = feed_on(bus)
    start_call(bus)
    sub = feed.subscribe("anna")
    assert sub.backlog == [] and not sub.reset  # nothing is offered to anna yet
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))
    got = drain(sub.queue)
    assert [e["type"] for e in got] == ["state", "queued", "final", "reason", "verification", "offered"]
    assert [e["id"] for e in got] == [1, 2, 3, 4, 5, 6]
    assert [e["call_event_id"] for e in got] == [1, 2, 3, 4, 5, 6]
    assert got[2]["text"] == "my card is [CARD]" and CARD not in str(got)
    assert got[3]["text"] == "my card is [CARD]"
    bus.publish("c1", PartialSegment(leg="caller", text="four one one one"))
    bus.publish("c1", _connected("anna", wait_s=0.4))
    live = drain(sub.queue)
    assert [(e["id"], e["type"]) for e in live] == [(7, "partial"), (8, "agent_connected")]
    assert feed.subscribe("boris").backlog == []  # other agents see nothing of it


def test_second_agent_after_a_transfer_sees_the_whole_call_and_the_first_stops():
    bus = EventBus()
    feed = feed_on(bus)
    start_call(bus)
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))
    bus.publish("c1", _connected("anna"))
    bus.publish("c1", FinalSegment(leg="agent", start=3.0, end=4.0, text="how can I help", confidence=0.9))
    bus.publish("c1", Transferred(by="refer", target="boris", queue="general", agent_id="boris",
                from_agent="anna"))
    bus.publish("c1", Offered(agent_id="boris", agent_name="Boris"))
    bus.publish("c1", _connected("boris"))
    bus.publish("c1", FinalSegment(leg="caller", start=6.0, end=7.0, text="thanks", confidence=0.9, words=[]))
    bus.publish("c1", CallStateChanged(state="ended", reason="caller_hangup"))
    anna = feed.subscribe("anna").backlog
    boris = feed.subscribe("boris").backlog
    assert anna[-1]["type"] == "transferred" and [e["call_event_id"] for e in anna] == list(range(1, 10))
    assert [e["call_event_id"] for e in boris] == list(range(1, 14))  # from the very first event
    assert [e["text"] for e in boris if e["type"] == "final"] == ["my card is [CARD]", "how can I help", "thanks"]
    assert boris[-1]["type"] == "state" and boris[-1]["state"] == "ended"


def test_a_new_offer_after_no_answer_replays_only_what_was_missed():
    bus = EventBus()
    feed = feed_on(bus)
    start_call(bus)
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))
    bus.publish("c1", OfferMissed(type="no_answer", agent_id="anna", code=0, detail=""))
    bus.publish("c1", PartialSegment(leg="caller", text="still waiting"))  # anna is out of the call: not hers
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))
    events = feed.subscribe("anna").backlog
    assert [e["call_event_id"] for e in events] == list(range(1, 10))
    assert [e["id"] for e in events] == list(range(1, 10))


def test_resume_after_an_id_gets_exactly_the_missed_events():
    bus = EventBus()
    feed = feed_on(bus)
    start_call(bus)
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))
    first = feed.subscribe("anna")
    seen = first.backlog[:4]  # the client dropped after its 4th event
    feed.unsubscribe(first)
    bus.publish("c1", FinalSegment(leg="caller", start=5.0, end=6.0, text="hello", confidence=0.9, words=[]))
    again = feed.subscribe("anna", after=seen[-1]["id"], epoch=feed.epoch)
    assert not again.reset
    bus.publish("c1", CallStateChanged(state="ended", reason="caller_hangup"))
    resumed = again.backlog + drain(again.queue)
    ids = [e["id"] for e in seen + resumed]
    assert ids == list(range(1, feed.last_id("anna") + 1))  # nothing lost, nothing twice
    assert drain(first.queue) == []  # the dropped connection's queue is detached


def test_reset_when_the_client_is_from_another_run_or_too_far_behind():
    bus = EventBus()
    feed = feed_on(bus, keep=3)
    start_call(bus)
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))  # 6 events, 3 kept
    other_run = feed.subscribe("anna", after=2, epoch="not-this-run")
    assert other_run.reset and [e["id"] for e in other_run.backlog] == [4, 5, 6]
    too_old = feed.subscribe("anna", after=1, epoch=feed.epoch)
    assert too_old.reset and [e["id"] for e in too_old.backlog] == [4, 5, 6]
    ahead = feed.subscribe("anna", after=99, epoch=feed.epoch)
    assert ahead.reset and len(ahead.backlog) == 3
    caught_up = feed.subscribe("anna", after=6, epoch=feed.epoch)
    assert not caught_up.reset and caught_up.backlog == []


def test_presence_changes_of_the_agent_enter_their_feed():
    bus, board = EventBus(), AgentBoard()
    feed = feed_on(bus, board)
    board.sync(AgentInfo("anna", "Anna", "anna"))
    board.registered("anna", True)
    board.set_status("anna", AgentState.AWAY)
    events = feed.subscribe("anna").backlog
    assert [(e["type"], e["state"]) for e in events] == [("presence", "available"), ("presence", "away")]
    assert feed.subscribe("boris").backlog == []


def test_a_failing_tap_does_not_break_publishing():
    bus = EventBus()

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    bus.taps.append(broken)
    feed = feed_on(bus)
    start_call(bus)
    bus.publish("c1", Offered(agent_id="anna", agent_name="Anna"))
    assert len(bus.history("c1")) == 6 and feed.last_id("anna") == 6


def test_sessions_expire_when_idle_or_too_old_and_end_on_logout():
    clock = Clock()
    table = SessionTable(idle_s=60, max_s=300, clock=clock)
    token, session = table.create("anna", "Anna", "anna")
    assert table.get(token) is session and table.get("forged") is None
    assert len(token) >= 40 and len(session.csrf) >= 40 and token != session.csrf
    for _ in range(5):  # used every 50 s: stays alive until the absolute limit
        clock.now += 50
        assert table.get(token) is session
    clock.now += 51
    assert table.get(token) is None  # 301 s old
    token, _ = table.create("anna", "Anna", "anna")
    clock.now += 61
    assert table.get(token) is None  # idle too long
    token, _ = table.create("anna", "Anna", "anna")
    assert table.drop(token) and table.get(token) is None and not table.drop(token)
    table.create("anna", "Anna", "anna")
    table.create("anna", "Anna", "anna")
    assert table.drop_agent("anna") == 2 and len(table) == 0


def fail(limiter: LoginLimiter, address: str) -> bool:
    assert limiter.begin(address) == 0
    return limiter.finish(address, False)


def test_login_limiter_blocks_an_address_after_repeated_failures():
    clock = Clock()
    limiter = LoginLimiter(limit=3, window_s=60, block_s=300, clock=clock)
    assert [fail(limiter, "10.0.0.1") for _ in range(2)] == [False, False]
    assert limiter.begin("10.0.0.1") == 0 and not limiter.finish("10.0.0.1", True)  # a good login clears the count
    assert [fail(limiter, "10.0.0.1") for _ in range(3)] == [False, False, True]
    assert limiter.begin("10.0.0.1") == 300 and limiter.begin("10.0.0.2") == 0
    clock.now += 299
    assert limiter.begin("10.0.0.1") == 1
    clock.now += 2
    assert limiter.begin("10.0.0.1") == 0
    fail(limiter, "10.0.0.3")
    clock.now += 61  # failures older than the window are forgotten
    assert [fail(limiter, "10.0.0.3") for _ in range(2)] == [False, False]


def test_parallel_logins_cannot_outrun_the_limit():
    limiter = LoginLimiter(limit=3, window_s=60, block_s=300, clock=Clock())
    fail(limiter, "10.0.0.1")
    assert [limiter.begin("10.0.0.1") for _ in range(3)] == [0, 0, 60]  # 1 failed + 2 being checked = the limit
    assert not limiter.finish("10.0.0.1", False) and limiter.finish("10.0.0.1", False)
    assert limiter.begin("10.0.0.1") == 300
