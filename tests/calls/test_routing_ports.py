"""A call's routing driven at its ports: a fake call (CallPort) and fake agent legs (AgentLegPort) around the
real router, board and presence. No SIP and no media: what the routing decides and records is what is tested.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.config import Settings
from callcenter.board import AgentBoard, AgentInfo
from callcenter.presence import AgentPresence, AgentState
from callcenter.router import Router
from calls.agentleg import RingOutcome
from calls.bus import EventBus
from calls.context import AppContext
from calls.routing import CallRouting, TransferTargetError
from core.events import CallEventModel
from core.metrics import Metrics
from media.ports import PortAllocator
from voice.call import CallerInfo
from voice.events import CallEvent, ReferRequested, RemoteHangup


class FakeSession:
    """A fake caller media session: no codec negotiated, so the routing plays no hold music."""

    negotiated = None

    def stop_playback(self) -> None:
        return None


class FakeCall:
    """A fake caller's call (implements :class:`calls.ports.CallPort`): records what the routing does to it."""

    def __init__(self, call_id: str = "call1", called: str | None = None, trust: str = "peer") -> None:
        self.id = call_id
        self.language = "uk"
        self.info = CallerInfo("sip-" + call_id, "caller", "+380441234567", None, called, ("127.0.0.1", 5062),
                               number_trust=trust)  # type: ignore[arg-type]
        self.session = FakeSession()
        self.ended = False
        self.records: list[CallEventModel] = []
        self.updates: list[dict[str, Any]] = []
        self.reasons: list[tuple[str, str]] = []
        self.ends: list[str] = []

    def publish(self, event: CallEventModel) -> None:
        self.records.append(event)

    def record(self, event: CallEventModel) -> None:
        self.records.append(event)

    def store_update(self, **values: Any) -> None:
        self.updates.append(values)

    def heard_reason(self, said: str, reason: str) -> None:
        self.reasons.append((said, reason))

    def relay_dtmf(self, digit: str, at: float) -> None:
        return None

    def consume(self, rec: Any) -> None:
        return None

    def end(self, reason: str) -> None:
        self.ends.append(reason)
        self.ended = True

    def kinds(self) -> list[str]:
        return [e.type for e in self.records]


@dataclass
class FakeBridge:
    """A fake bridge between two media sessions."""

    mode: Any = field(default_factory=lambda: type("Mode", (), {"value": "relay"})())
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


class FakeAgentLeg:
    """A fake agent leg (implements :class:`calls.ports.AgentLegPort`): answers as scripted, then waits for the
    phone event a test feeds it."""

    def __init__(self, agent: AgentPresence, outcome: RingOutcome) -> None:
        self.agent = agent
        self.session: Any = object()
        self.bridge: FakeBridge | None = None
        self.answered = False
        self.closed = False
        self.hung_up: bool | None = None
        self.rung_with: tuple[list[str], str, str | None] | None = None
        self._outcome = outcome
        self.phone: asyncio.Queue[CallEvent] = asyncio.Queue()

    async def ring(self, codecs: list[str], caller: str, display: str | None) -> RingOutcome:
        self.rung_with = (codecs, caller, display)
        self.answered = self._outcome.result == "answered"
        return self._outcome

    def join(self, caller: Any) -> Any:
        self.bridge = FakeBridge()
        return self.bridge

    async def next_event(self) -> CallEvent:
        return await self.phone.get()

    async def close(self, hangup: bool = True) -> None:
        self.closed, self.hung_up = True, hangup


class Agents:
    """The fake legs the routing asked for, in order, each answering per the script (default: answered)."""

    def __init__(self, script: dict[str, list[str]] | None = None) -> None:
        self.script = script or {}
        self.legs: list[FakeAgentLeg] = []

    def __call__(self, agent: AgentPresence) -> FakeAgentLeg:
        results = self.script.get(agent.agent_id, [])
        result = results.pop(0) if results else "answered"
        leg = FakeAgentLeg(agent, RingOutcome(result))
        self.legs.append(leg)
        return leg


def _ctx(*agents: str, **routing: Any) -> AppContext:
    settings = Settings.model_validate({"routing": {"wrap_up_s": 0.05, **routing}})
    board = AgentBoard()
    for name in agents:
        board.sync(AgentInfo(name, name.title(), name))
        board.registered(name, True)
    ctx = AppContext(settings, None, EventBus(), Metrics(), PortAllocator(40000, 40002))  # type: ignore[arg-type]
    ctx.board = board  # routing never touches the store: the call port stores
    ctx.router = Router(settings.routing, board)
    return ctx


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_a_queued_caller_is_offered_then_bridged_to_the_available_agent() -> None:
    ctx, call, agents = _ctx("anna"), FakeCall(), Agents()
    routing = CallRouting(call, ctx, agents)
    await routing.start(None, asyncio.get_running_loop().time(), None)
    await _settle()
    assert call.kinds() == ["queued", "offered", "agent_connected"]
    queued, offered, connected = call.records
    assert (queued.queue, queued.priority) == ("general", 0)  # type: ignore[attr-defined]
    assert (offered.agent_id, connected.agent_id, connected.bridge) == ("anna", "anna", "relay")  # type: ignore
    leg = agents.legs[0]
    assert leg.rung_with is not None and leg.rung_with[0] == ctx.settings.media.codecs  # no codec yet: config order
    assert leg.rung_with[2] == "+380441234567"  # the agent's phone shows the caller's number
    assert ctx.board.get("anna").state == AgentState.ON_CALL and routing.reached_agent
    assert any(u.get("agent_id") == "anna" and "wait_s" in u for u in call.updates)
    await routing.finish()


@pytest.mark.asyncio
async def test_a_missed_offer_requeues_the_caller_and_the_next_agent_rings() -> None:
    ctx, call, agents = _ctx("anna", "boris"), FakeCall(), Agents({"anna": ["no_answer"], "boris": ["no_answer"]})
    ctx.board.get("boris").idle_since -= 10  # boris has been idle longer: he is offered first
    routing = CallRouting(call, ctx, agents)
    await routing.start(None, asyncio.get_running_loop().time(), None)
    await _settle()
    assert [leg.agent.agent_id for leg in agents.legs][:2] == ["boris", "anna"]
    missed = [e for e in call.records if e.type == "no_answer"]
    assert [m.agent_id for m in missed][:2] == ["boris", "anna"]  # type: ignore[attr-defined]
    assert all(leg.closed for leg in agents.legs[:2])
    assert ctx.board.get("boris").misses >= 1
    await routing.finish()


@pytest.mark.asyncio
async def test_the_agent_hanging_up_ends_the_call_through_its_port() -> None:
    ctx, call, agents = _ctx("anna"), FakeCall(), Agents()
    routing = CallRouting(call, ctx, agents)
    await routing.start(None, asyncio.get_running_loop().time(), None)
    await _settle()
    agents.legs[0].phone.put_nowait(RemoteHangup("bye"))
    await _settle()
    assert call.ends == ["agent_hangup"]  # no fake SIP event: the routing asks the call to end
    assert call.kinds()[-1] == "agent_hangup" and agents.legs[0].hung_up is False  # the phone already hung up
    assert ctx.board.get("anna").state == AgentState.WRAP_UP
    await routing.finish()


@pytest.mark.asyncio
async def test_a_caller_who_hangs_up_while_queued_is_abandoned_with_the_wait() -> None:
    ctx, call = _ctx(), FakeCall()  # no agent at all
    routing = CallRouting(call, ctx, Agents())
    await routing.start(None, asyncio.get_running_loop().time(), None)
    await routing.finish()
    abandoned = call.records[-1]
    assert abandoned.type == "abandoned" and abandoned.queued is True  # type: ignore[attr-defined]
    assert "wait_s" in call.updates[-1] and not routing.reached_agent
    assert ctx.router is not None and ctx.router.queue.position(call.id) is None


@pytest.mark.asyncio
async def test_what_the_caller_says_before_an_agent_answers_is_the_reason() -> None:
    ctx, call = _ctx(), FakeCall()
    routing = CallRouting(call, ctx, Agents())
    await routing.start(None, asyncio.get_running_loop().time(), None)
    routing.caller_said("my card")
    routing.caller_said("is blocked")
    routing.caller_said("")
    assert call.reasons == [("my card", "my card"), ("is blocked", "my card is blocked")]
    routing.reached_agent = True
    routing.caller_said("hello")  # said to the agent: not the reason any more
    assert len(call.reasons) == 2
    await routing.finish()


@pytest.mark.asyncio
async def test_a_refer_from_the_agent_phone_transfers_the_caller_to_the_named_agent() -> None:
    ctx, call, agents = _ctx("anna", "boris"), FakeCall(), Agents()
    ctx.board.get("anna").idle_since -= 10  # anna first
    routing = CallRouting(call, ctx, agents)
    await routing.start(None, asyncio.get_running_loop().time(), None)
    await _settle()
    assert agents.legs[0].agent.agent_id == "anna"
    agents.legs[0].phone.put_nowait(ReferRequested("sip:boris@hotline"))
    await _settle()
    transferred = next(e for e in call.records if e.type == "transferred")
    assert (transferred.by, transferred.agent_id, transferred.from_agent) == ("refer", "boris", "anna")  # type: ignore
    assert agents.legs[0].hung_up is False  # the phone ended its own dialog after REFER
    assert agents.legs[1].agent.agent_id == "boris" and call.kinds()[-1] == "agent_connected"
    assert call.ends == []
    with pytest.raises(TransferTargetError) as err:
        routing.resolve("sip:nobody@hotline")
    assert err.value.target == "sip:nobody@hotline"
    await routing.finish()


@pytest.mark.asyncio
@pytest.mark.parametrize(("trust", "priority"), [("asserted", 1), ("peer", 1), ("unverified", 0)])
async def test_only_a_verified_number_gives_a_flagged_customer_priority(trust: str, priority: int) -> None:
    ctx, call = _ctx(), FakeCall(trust=trust)
    flag = ctx.settings.routing.priority_flags[0]
    customer = type("Customer", (), {"flags": [flag]})()
    routing = CallRouting(call, ctx, Agents())
    await routing.start(None, asyncio.get_running_loop().time(), customer)
    queued = call.records[0]
    assert queued.type == "queued" and queued.priority == priority  # type: ignore[attr-defined]
    await routing.finish()
