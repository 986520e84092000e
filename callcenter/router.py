"""The router: queues callers, offers them to agents, and keeps presence honest. Runs in the asyncio loop.

The pure parts live in :mod:`callcenter.queueing` (order and choice) and :mod:`callcenter.presence`
(agent state); this module adds time (no-answer, wrap-up, overflow) and hands each
pairing to the caller's :class:`Routable` (the call service), which rings the agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Protocol

from callcenter.board import AgentBoard
from callcenter.presence import AgentPresence, AgentState
from callcenter.queueing import CallQueue, Waiting, match
from callcenter.settings import QueueSettings, RoutingSettings

log = logging.getLogger("hotline.routing")


class Routable(Protocol):
    """What the router needs from a queued call."""

    id: str

    def offer(self, agent: AgentPresence) -> None:
        """Ring ``agent`` for this caller (the call reports back through the router)."""

    def overflowed(self, old: QueueSettings, new: QueueSettings) -> None:
        """The caller moved to another queue after waiting too long."""


class Router:
    """Waiting callers, agent presence, and the timers between them."""

    def __init__(self, settings: RoutingSettings, board: AgentBoard) -> None:
        self.settings = settings
        self.board = board
        self.queue = CallQueue()
        self.calls: dict[str, Routable] = {}
        self._dispatch_soon = False
        self._wrapups: dict[str, asyncio.TimerHandle] = {}
        self._ticker: asyncio.Task[None] | None = None
        self.recent_waits: deque[float] = deque(maxlen=20)  # of callers who reached an agent, for estimates
        board.listeners.append(self._agent_changed)

    def start(self) -> None:
        """Start the overflow timer."""
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        """Stop timers."""
        if self._ticker is not None:
            self._ticker.cancel()
        for handle in self._wrapups.values():
            handle.cancel()

    # -- callers ------------------------------------------------------------------
    def enqueue(self, call: Routable, queue: QueueSettings, priority: int = 0, language: str | None = None,
                target_agent: str | None = None) -> Waiting:
        """Queue a caller and serve the queue."""
        now = self.board.clock()
        entry = Waiting(call.id, queue, now, now, priority, language=language, target_agent=target_agent)
        self.calls[call.id] = call
        self.queue.add(entry)
        self.dispatch()
        return entry

    def requeue(self, entry: Waiting, missed_by: str | None = None) -> None:
        """Put a caller back in their place (an agent leg failed or was not answered)."""
        if entry.call_id not in self.calls:
            return  # the caller left meanwhile
        if missed_by is not None:
            entry.missed_by.add(missed_by)
        entry.target_agent = None
        self.queue.add(entry)
        self.dispatch()

    def transfer(self, call: Routable, entry: Waiting, queue: QueueSettings, agent_id: str | None) -> None:
        """Queue a transferred caller at the head of ``queue`` (or for one agent)."""
        entry.queue, entry.queue_since, entry.target_agent = queue, self.board.clock(), agent_id
        entry.missed_by.clear()
        entry.arrival = -1 - len(self.queue)  # ahead of everyone who is waiting
        self.calls[call.id] = call
        self.queue.add(entry)
        self.dispatch()

    def leave(self, call_id: str) -> Waiting | None:
        """The caller is gone (hung up, or the call ended)."""
        self.calls.pop(call_id, None)
        return self.queue.remove(call_id)

    # -- agents -------------------------------------------------------------------
    def answered(self, agent: AgentPresence) -> None:
        """The agent picked up."""
        agent.misses = 0
        self.board.move(agent, AgentState.ON_CALL, "answered")

    def missed(self, agent: AgentPresence, why: str) -> None:
        """The agent did not answer (or their phone failed): next time, or away after too many."""
        agent.misses += 1
        if agent.state != AgentState.RINGING:
            return
        if agent.misses >= self.settings.max_misses:
            log.info("agent %s set away after %d missed offers (%s)", agent.agent_id, agent.misses, why)
            self.board.move(agent, AgentState.AWAY, f"{agent.misses} missed offers")
        else:
            self.board.move(agent, AgentState.AVAILABLE, why)

    def released(self, agent: AgentPresence) -> None:
        """The agent's call ended: wrap-up, then available again."""
        if agent.state == AgentState.ON_CALL:
            self.board.move(agent, AgentState.WRAP_UP, "call ended")
        if agent.state != AgentState.WRAP_UP:
            return
        old = self._wrapups.pop(agent.agent_id, None)
        if old is not None:
            old.cancel()
        self._wrapups[agent.agent_id] = asyncio.get_running_loop().call_later(
            self.settings.wrap_up_s, self._wrap_up_done, agent)

    def _wrap_up_done(self, agent: AgentPresence) -> None:
        self._wrapups.pop(agent.agent_id, None)
        if agent.state == AgentState.WRAP_UP:
            target = AgentState.AVAILABLE if self.board.is_registered(agent.agent_id) else AgentState.OFFLINE
            self.board.move(agent, target, "wrap-up over")

    def _agent_changed(self, agent: AgentPresence) -> None:
        if agent.state == AgentState.AVAILABLE:
            self.dispatch()

    # -- matching -----------------------------------------------------------------
    def dispatch(self) -> None:
        """Serve the queues soon (coalesced: many changes in one loop turn match once)."""
        if not self._dispatch_soon:
            self._dispatch_soon = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._dispatch_soon = False
        for entry, agent in match(self.queue, self.board):
            call = self.calls.get(entry.call_id)
            self.queue.remove(entry.call_id)
            if call is None:
                continue
            self.board.move(agent, AgentState.RINGING, f"offered call {entry.call_id}")
            agent.call_id = entry.call_id
            call.offer(agent)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = self.board.clock()
            for entry in self.queue.ordered():
                q = entry.queue
                if q.overflow and now - entry.queue_since >= q.max_wait_s:
                    new = self.settings.queue(q.overflow)
                    if new is None or new.name == q.name:
                        continue
                    entry.queue, entry.queue_since = new, now
                    call = self.calls.get(entry.call_id)
                    if call is not None:
                        call.overflowed(q, new)
                    self.dispatch()

    # -- visibility ---------------------------------------------------------------
    def snapshot(self) -> list[dict[str, object]]:
        """Per queue: waiting callers, longest wait, agents available for it."""
        now = self.board.clock()
        out: list[dict[str, object]] = []
        for q in self.settings.queues:
            waiting = self.queue.ordered(q.name)
            free = self.board.free(q.language, tuple(q.skills))
            out.append({
                "name": q.name, "numbers": q.numbers, "language": q.language, "skills": q.skills,
                "waiting": len(waiting),
                "longest_wait_s": round(max((now - w.enqueued_at for w in waiting), default=0.0), 3),
                "available_agents": len(free),
                "callers": [{"call_id": w.call_id, "position": i + 1, "wait_s": round(now - w.enqueued_at, 3),
                             "priority": w.priority} for i, w in enumerate(waiting)],
            })
        return out
