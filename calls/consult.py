"""Warm (consult) transfer: the agent talks to a second agent while the caller holds, then hands over or not.

States: ``ringing`` (the second agent's phone rings; the caller hears hold music) → ``connected`` (the two
agents talk) → ``completed`` (the caller is bridged to the second agent, the first leg ends) or
``cancelled`` (the second leg ends, the caller is back with the first agent). If the first agent hangs up
while the two agents are connected, the transfer completes, as on a desk phone.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from callcenter.presence import AgentPresence, AgentState
from calls.agentleg import RingOutcome
from calls.ports import AgentLegPort, ConsultHost
from core.events import ConsultCancelled, ConsultConnected, ConsultFailed, ConsultStarted, Transferred
from media.bridge import Bridge

log = logging.getLogger("hotline.call")


class ConsultState(StrEnum):
    """Where a consultation is."""

    RINGING = "ringing"
    CONNECTED = "connected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ConsultError(RuntimeError):
    """A consultation request that cannot be carried out now."""

    def __init__(self, call_id: str, reason: str) -> None:
        super().__init__(f"call {call_id}: {reason}")
        self.call_id = call_id
        self.reason = reason


class Consultation:
    """One consult of a second agent for a bridged call."""

    def __init__(self, routing: ConsultHost, first: AgentLegPort, second: AgentPresence) -> None:
        self.routing = routing
        self.first = first
        self.second_agent = second
        self.second: AgentLegPort | None = None
        self.state = ConsultState.RINGING
        self._bridge: Bridge | None = None

    async def start(self) -> RingOutcome:
        """Put the caller on hold, ring the second agent, and bridge the agents if they answer."""
        r, call = self.routing, self.routing.call
        assert call.session is not None and self.first.session is not None
        if self.first.bridge is not None:
            self.first.bridge.stop()  # caller <-/-> first agent
        r.hold_music()
        r.ctx.board.move(self.second_agent, AgentState.RINGING, f"consulted on call {r.id}")
        self.second_agent.call_id = r.id
        leg = r.new_leg(self.second_agent)
        self.second = leg
        r.record(ConsultStarted(agent_id=self.second_agent.agent_id, from_agent=self.first.agent.agent_id))
        neg = call.session.negotiated
        codecs = [neg.codec.name] if neg else []
        codecs += [c for c in r.ctx.settings.media.codecs if c not in codecs]
        try:
            outcome = await leg.ring(codecs, r.ctx.settings.routing.agent_caller_id or "hotline",
                                     f"consult {self.first.agent.name}")
        except Exception as exc:
            log.exception("consult call failed")
            outcome = RingOutcome("failed", 0, str(exc))
        cancelled = self.state != ConsultState.RINGING
        if outcome.result != "answered" or cancelled:
            await self._drop_second(missed=outcome.result != "answered" and not cancelled)
            self._back_to_first()
            r.record(ConsultFailed(agent_id=self.second_agent.agent_id, result=outcome.result))
            return outcome
        r.router.answered(self.second_agent)
        assert leg.session is not None
        self._bridge = Bridge(self.first.session, leg.session)
        self._bridge.start()
        self.state = ConsultState.CONNECTED
        r.record(ConsultConnected(agent_id=self.second_agent.agent_id, bridge=self._bridge.mode.value))
        return outcome

    async def complete(self, by: str) -> dict[str, Any]:
        """Hand the caller to the second agent; the first agent's leg ends."""
        if self.state != ConsultState.CONNECTED or self.second is None:
            raise ConsultError(self.routing.id, f"consultation is {self.state}, not connected")
        r = self.routing
        self.state = ConsultState.COMPLETED
        if self._bridge is not None:
            self._bridge.stop()
        first = self.first
        await first.close()
        r.free_agent(first.agent)
        r.adopt(self.second)
        r.record(Transferred(by=by, how="consult", agent_id=self.second_agent.agent_id,
                             from_agent=first.agent.agent_id, queue=r.entry.queue.name if r.entry else None))
        return {"state": self.state.value, "agent_id": self.second_agent.agent_id}

    async def cancel(self, by: str) -> dict[str, Any]:
        """End the consult leg; the caller is back with the first agent."""
        if self.state not in (ConsultState.RINGING, ConsultState.CONNECTED):
            raise ConsultError(self.routing.id, f"consultation is already {self.state}")
        was_connected = self.state == ConsultState.CONNECTED
        self.state = ConsultState.CANCELLED
        if was_connected:
            await self._drop_second(missed=False)
            self._back_to_first()
        elif self.second is not None:
            await self.second.close()  # CANCEL the ringing phone; start() then puts the caller back
        self.routing.record(ConsultCancelled(by=by, agent_id=self.second_agent.agent_id))
        return {"state": self.state.value, "agent_id": self.first.agent.agent_id}

    async def _drop_second(self, missed: bool) -> None:
        if self._bridge is not None:
            self._bridge.stop()
        if self.second is not None:
            await self.second.close()
        agent = self.second_agent
        if missed and agent.state == AgentState.RINGING:
            self.routing.router.missed(agent, "consult not answered")
        else:
            self.routing.free_agent(agent)

    def _back_to_first(self) -> None:
        r = self.routing
        r.stop_hold_music()
        if r.call.session is not None and not self.first.closed:
            self.first.join(r.call.session)

    async def close(self) -> None:
        """The call ended: end the consult leg if it is still up."""
        if self.state in (ConsultState.RINGING, ConsultState.CONNECTED):
            self.state = ConsultState.CANCELLED
            await self._drop_second(missed=False)

