"""A caller's way to an agent: queue, hold music, offers, bridge, transfer. One per routed call."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from callcenter.announce import expected_wait_minutes
from callcenter.presence import AgentPresence, AgentState
from callcenter.queueing import Waiting
from callcenter.settings import QueueSettings
from calls.agentleg import AgentLeg, RingOutcome
from calls.consult import Consultation, ConsultError, ConsultState
from calls.context import AppContext
from calls.ports import AgentLegPort, CallPort, LegFactory
from core.clock import utcnow
from core.events import (
    Abandoned,
    AgentConnected,
    AgentHungUp,
    Announced,
    CallEventModel,
    ConsultRequested,
    Offered,
    OfferMissed,
    Overflowed,
    Queued,
    Transferred,
)
from voice.events import ReferRequested

log = logging.getLogger("hotline.call")


class TransferTargetError(ValueError):
    """A transfer names no agent or queue Hotline knows."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"cannot transfer to {target!r}: {reason}")
        self.target = target
        self.reason = reason


class CallRouting:
    """Implements :class:`callcenter.router.Routable` for one call, and :class:`calls.ports.ConsultHost`.

    ``call`` is the caller's call (its port); ``legs`` builds the leg that rings an agent (by default a real
    :class:`calls.agentleg.AgentLeg`).
    """

    def __init__(self, call: CallPort, ctx: AppContext, legs: LegFactory | None = None) -> None:
        self.call = call
        self.ctx = ctx
        assert ctx.router is not None
        self.router = ctx.router
        self.id = call.id
        self._legs = legs
        self.entry: Waiting | None = None
        self.leg: AgentLegPort | None = None
        self.reason_parts: list[str] = []
        self.connected_at = 0.0  # monotonic: caller answered (ACK)
        self.reached_agent = False
        self._hold: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.consultation: Consultation | None = None

    # -- queueing -------------------------------------------------------------------
    async def start(self, greeting: asyncio.Task[None] | None, connected_at: float, customer: Any) -> None:
        """Queue the caller right away (the greeting plays meanwhile), then hold music.

        ``connected_at`` is the loop time of the caller's ACK; ``customer`` the profile found by the caller's
        number (its flags give the priority, when the number is verified), or None.
        """
        self.connected_at = connected_at
        call = self.call
        queue = self.ctx.settings.routing.queue_for(call.info.called)
        flags = set(getattr(customer, "flags", None) or [])
        # an unverified number may pick the customer card, never priority by itself
        vip = bool(flags & set(self.ctx.settings.routing.priority_flags)) and call.info.number_verified
        priority = 1 if vip else 0
        self.entry = self.router.enqueue(self, queue, priority, queue.language)
        call.store_update(queue=queue.name, queued_at=utcnow())
        self._record(Queued(queue=queue.name, priority=priority, position=self.router.queue.position(self.id)))
        self.ctx.metrics.queued.labels(queue.name).inc()
        self._hold = self._spawn(self._hold_audio(greeting))

    async def _hold_audio(self, greeting: asyncio.Task[None] | None, force: bool = False) -> None:
        """After the greeting: music on hold (and the optional position announcement) until bridged."""
        session = self.call.session
        if greeting is not None:
            await asyncio.gather(greeting, return_exceptions=True)
        neg = session.negotiated if session else None
        if session is None or neg is None:
            return
        loop = asyncio.get_running_loop()
        payloads = self.ctx.moh.payloads(neg.codec.name) if self.ctx.moh else None
        every = self.ctx.settings.routing.announce_every_s if self.ctx.announcer else 0.0
        next_at = loop.time() if every else float("inf")  # first right after the greeting, then every N s
        while force or self.leg is None or not self.leg.answered:
            if loop.time() >= next_at:
                await self._announce(session, neg.codec.name)
                next_at = loop.time() + every
            if payloads is None and not every:
                return
            if payloads is None:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                continue
            music = session.play(payloads)
            done, _ = await asyncio.wait({music}, timeout=None if not every else max(0.0, next_at - loop.time()))
            if not done:
                session.stop_playback()

    async def _announce(self, session: Any, codec: str) -> None:
        """Say the caller's place in the queue and the expected wait (only while queued)."""
        position = self.router.queue.position(self.id)
        if position is None or self.ctx.announcer is None:
            return
        routing = self.ctx.settings.routing
        language = self.call.language if self.call.language in routing.announce_text else "en"
        template = routing.announce_text.get(language) or next(iter(routing.announce_text.values()), "")
        minutes = expected_wait_minutes(position, list(self.router.recent_waits), 1)
        text = template.format(position=position, minutes=minutes)
        try:
            prompt = await self.ctx.announcer.prompt(text, language)
        except Exception as exc:
            log.warning("queue announcement skipped: %s", exc)
            return
        self._record(Announced(position=position, expected_wait_min=minutes))
        await session.play(prompt.payloads(codec))

    def caller_said(self, text: str) -> None:
        """A caller final before an agent answered: it becomes the call's reason."""
        if self.reached_agent or not text:
            return
        self.reason_parts.append(text)
        reason = " ".join(self.reason_parts)
        self.call.heard_reason(text, reason)

    def overflowed(self, old: QueueSettings, new: QueueSettings) -> None:
        """Moved to the overflow queue."""
        self.call.store_update(queue=new.name)
        self._record(Overflowed(from_queue=old.name, to=new.name))

    def new_leg(self, agent: AgentPresence) -> AgentLegPort:
        """A leg to ring ``agent`` for this call."""
        if self._legs is not None:
            return self._legs(agent)
        return AgentLeg(self.ctx, agent, self.call.language, self.call.relay_dtmf, self.call.consume)

    # -- offers -----------------------------------------------------------------------
    def offer(self, agent: AgentPresence) -> None:
        """Ring ``agent`` (called by the router)."""
        self._spawn(self._offer(agent))

    async def _offer(self, agent: AgentPresence) -> None:
        call, entry = self.call, self.entry
        assert entry is not None and call.session is not None
        self._record(Offered(agent_id=agent.agent_id, agent_name=agent.name))
        leg = self.new_leg(agent)
        self.leg = leg
        neg = call.session.negotiated
        codecs = [neg.codec.name] if neg else []
        codecs += [c for c in self.ctx.settings.media.codecs if c not in codecs]
        info = call.info
        try:
            outcome = await leg.ring(codecs, self.ctx.settings.routing.agent_caller_id or "hotline",
                                     info.caller_number or info.caller_user)
        except Exception as exc:
            log.exception("offer to agent %s failed", agent.agent_id)
            outcome = RingOutcome("failed", 0, str(exc))
        if call.ended:
            await leg.close()
            self.free_agent(agent)
            return
        self.ctx.metrics.agent_offers.labels(outcome.result).inc()
        if outcome.result != "answered":
            await self._not_answered(agent, leg, entry, outcome)
            return
        self._answered(agent, leg, entry)

    async def _not_answered(self, agent: AgentPresence, leg: AgentLegPort, entry: Waiting,
                            outcome: RingOutcome) -> None:
        self.leg = None
        await leg.close()
        self._record(OfferMissed(type="no_answer" if outcome.result == "no_answer" else "offer_failed",
                                 agent_id=agent.agent_id, code=outcome.code, detail=outcome.detail))
        if agent.state == AgentState.RINGING:
            self.router.missed(agent, outcome.result)
        self.router.requeue(entry, agent.agent_id)

    def _answered(self, agent: AgentPresence, leg: AgentLegPort, entry: Waiting) -> None:
        call = self.call
        assert call.session is not None
        self.router.answered(agent)
        bridge = leg.join(call.session)
        if self._hold is not None:
            self._hold.cancel()
        now = asyncio.get_running_loop().time()
        waited = self.ctx.board.clock() - entry.enqueued_at
        if not self.reached_agent:
            self.reached_agent = True
            self.router.recent_waits.append(waited)
            self.ctx.metrics.time_to_agent.observe(now - self.connected_at)
            self.ctx.metrics.routed(entry.queue.name, waited, self.ctx.settings.routing.service_level_s, True)
            call.store_update(agent_id=agent.agent_id, agent_connected_at=utcnow(), wait_s=round(waited, 3))
        else:
            call.store_update(agent_id=agent.agent_id)
        self._record(AgentConnected(agent_id=agent.agent_id, agent_name=agent.name, bridge=bridge.mode.value,
                                    wait_s=round(waited, 3), time_to_agent_s=round(now - self.connected_at, 4),
                                    connected_at=time.time()))
        self._spawn(self._watch(agent, leg))

    async def _watch(self, agent: AgentPresence, leg: AgentLegPort) -> None:
        """The agent's phone: hang-up ends the call (or completes a connected consult); REFER transfers."""
        event = await leg.next_event()
        if self.leg is not leg or leg.closed:
            return
        consult = self.consultation
        if consult is not None and consult.first is leg and consult.state == ConsultState.CONNECTED \
                and not isinstance(event, ReferRequested):
            await consult.complete(by="first agent hung up")
            return
        if consult is not None and consult.first is leg:
            await consult.close()
        if isinstance(event, ReferRequested):
            try:
                await self.transfer(event.target, by="refer", refer_from_phone=True)
                return
            except TransferTargetError as exc:
                log.info("REFER refused: %s; ending the call", exc)
        await leg.close(hangup=False)
        self.leg = None
        self.router.released(agent)
        self._record(AgentHungUp(agent_id=agent.agent_id))
        self.call.end("agent_hangup")

    # -- warm transfer ---------------------------------------------------------------------
    def consult(self, agent_id: str, by: str) -> dict[str, Any]:
        """Start a consultation with an available agent (the caller holds); its progress comes as events."""
        if self.leg is None or not self.leg.answered:
            raise ConsultError(self.id, "no agent is connected to the caller")
        if self.consultation is not None and self.consultation.state in (ConsultState.RINGING,
                                                                         ConsultState.CONNECTED):
            raise ConsultError(self.id, f"a consultation is already {self.consultation.state}")
        agent = self.ctx.board.find(agent_id)
        if agent is None or agent.state != AgentState.AVAILABLE or not self.ctx.board.is_registered(agent_id):
            raise ConsultError(self.id, f"agent {agent_id} is not available")
        self.consultation = Consultation(self, self.leg, agent)
        self._record(ConsultRequested(by=by, agent_id=agent_id))
        self._spawn(self.consultation.start())
        return {"state": self.consultation.state.value, "agent_id": agent_id}

    async def consult_finish(self, complete: bool, by: str) -> dict[str, Any]:
        """Complete (hand the caller over) or cancel the current consultation."""
        if self.consultation is None:
            raise ConsultError(self.id, "no consultation")
        if complete:
            return await self.consultation.complete(by)
        return await self.consultation.cancel(by)

    def adopt(self, leg: AgentLegPort) -> None:
        """Make ``leg`` the caller's agent leg: bridge it with the caller and watch its phone."""
        assert self.call.session is not None
        self.leg = leg
        self.stop_hold_music()
        leg.join(self.call.session)
        self.call.store_update(agent_id=leg.agent.agent_id)
        self._spawn(self._watch(leg.agent, leg))

    def hold_music(self) -> None:
        """Play hold music to the caller (again)."""
        if self._hold is None or self._hold.done():
            self._hold = self._spawn(self._hold_audio(None, force=True))

    def stop_hold_music(self) -> None:
        """Stop hold music (the caller is bridged again)."""
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None
        if self.call.session is not None:
            self.call.session.stop_playback()

    def record(self, event: CallEventModel) -> None:
        """Publish and store a timeline event of this call."""
        self.call.record(event)

    def free_agent(self, agent: AgentPresence) -> None:
        """The agent's part in this call is over (ringing: available again; on call: wrap-up)."""
        if agent.state == AgentState.RINGING:
            self.ctx.board.move(agent, AgentState.AVAILABLE, "caller left or transferred")
        elif agent.state == AgentState.ON_CALL:
            self.router.released(agent)

    # -- transfer ------------------------------------------------------------------------
    def resolve(self, target: str) -> tuple[QueueSettings, AgentPresence | None]:
        """An agent id, agent SIP user, queue name or queue number (bare or inside a SIP URI)."""
        name = target.strip()
        if name.lower().startswith(("sip:", "sips:")):
            name = name.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
        routing = self.ctx.settings.routing
        agent = self.ctx.board.find(name) or self.ctx.board.by_username(name)
        if agent is not None:
            current = self.entry.queue if self.entry else routing.queue_for(None)
            return current, agent
        queue = routing.queue(name) or next((q for q in routing.queues if name in q.numbers), None)
        if queue is None:
            raise TransferTargetError(target, "no agent or queue by that name")
        return queue, None

    async def transfer(self, target: str, by: str, refer_from_phone: bool = False) -> dict[str, Any]:
        """Blind transfer: end the current agent leg and queue the caller (at the head) for ``target``."""
        queue, agent = self.resolve(target)
        if self.entry is None:
            raise TransferTargetError(target, "the call is not routed")
        leg, self.leg = self.leg, None
        if leg is not None:
            await leg.close(hangup=not refer_from_phone)
            self.free_agent(leg.agent)
        queued = self.router.queue.get(self.id)
        if queued is not None:
            self.router.leave(self.id)
        self._record(Transferred(by=by, target=target, queue=queue.name, agent_id=agent.agent_id if agent else None,
                                 from_agent=leg.agent.agent_id if leg else None))
        self.router.transfer(self, self.entry, queue, agent.agent_id if agent else None)
        if self._hold is None or self._hold.done():
            self._hold = self._spawn(self._hold_audio(None))
        return {"queue": queue.name, "agent_id": agent.agent_id if agent else None}

    # -- end ------------------------------------------------------------------------------
    async def finish(self) -> None:
        """The caller is gone: leave the queue, end the agent leg, free the agent."""
        waiting = self.router.leave(self.id)
        if self._hold is not None:
            self._hold.cancel()
        if self.consultation is not None:
            await self.consultation.close()
        leg, self.leg = self.leg, None
        if leg is not None:
            await leg.close()
            self.free_agent(leg.agent)
        if not self.reached_agent and self.entry is not None:
            waited = self.ctx.board.clock() - self.entry.enqueued_at
            self.ctx.metrics.routed(self.entry.queue.name, waited, self.ctx.settings.routing.service_level_s,
                                    False)
            self.call.store_update(wait_s=round(waited, 3))
            self._record(Abandoned(wait_s=round(waited, 3), queued=waiting is not None))
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    # -- helpers ----------------------------------------------------------------------------
    def _record(self, event: CallEventModel) -> None:
        self.call.record(event)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
