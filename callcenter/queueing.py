"""Waiting callers and who serves whom. Pure and synchronous: the router drives it.

Order: callers with priority first, then by arrival (FIFO); a caller whose agent
leg failed keeps their place (their original arrival), so they are served next.
Each caller goes to the longest-idle free agent with the queue's language and skills;
an agent who already missed this caller is tried again only when no one else is free.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from callcenter.board import AgentBoard
from callcenter.presence import AgentPresence
from callcenter.settings import QueueSettings


@dataclass(eq=False)
class Waiting:
    """One caller in a queue."""

    call_id: str
    queue: QueueSettings
    enqueued_at: float  # monotonic, first time queued (the wait the caller feels)
    queue_since: float  # monotonic, when they entered the current queue (for max_wait_s)
    priority: int = 0
    arrival: int = 0
    language: str | None = None
    missed_by: set[str] = field(default_factory=set)
    target_agent: str | None = None  # a transfer to one agent: only they may take it

    def sort_key(self) -> tuple[int, int]:
        """Priority first, then arrival."""
        return (-self.priority, self.arrival)


class CallQueue:
    """Every waiting caller of every queue."""

    def __init__(self) -> None:
        self._waiting: dict[str, Waiting] = {}
        self._arrivals = itertools.count()

    def add(self, entry: Waiting) -> Waiting:
        """Queue a caller (a requeued caller keeps their arrival)."""
        if entry.arrival == 0:
            entry.arrival = next(self._arrivals) + 1
        self._waiting[entry.call_id] = entry
        return entry

    def remove(self, call_id: str) -> Waiting | None:
        """Take a caller out (answered, abandoned, offered)."""
        return self._waiting.pop(call_id, None)

    def get(self, call_id: str) -> Waiting | None:
        """A waiting caller."""
        return self._waiting.get(call_id)

    def ordered(self, queue: str | None = None) -> list[Waiting]:
        """Waiting callers in service order (of one queue, or all)."""
        items = [w for w in self._waiting.values() if queue is None or w.queue.name == queue]
        return sorted(items, key=Waiting.sort_key)

    def position(self, call_id: str) -> int | None:
        """1-based place in its queue."""
        entry = self._waiting.get(call_id)
        if entry is None:
            return None
        return self.ordered(entry.queue.name).index(entry) + 1

    def __len__(self) -> int:
        return len(self._waiting)


def choose_agent(entry: Waiting, board: AgentBoard, taken: set[str]) -> AgentPresence | None:
    """The agent for ``entry``: longest idle with the skills; one who missed them only as a last resort."""
    language = entry.queue.language or None
    free = [a for a in board.free(language, tuple(entry.queue.skills)) if a.agent_id not in taken]
    if entry.target_agent is not None:
        return next((a for a in free if a.agent_id == entry.target_agent), None)
    fresh = [a for a in free if a.agent_id not in entry.missed_by]
    pool = fresh or free
    return pool[0] if pool else None


def match(queue: CallQueue, board: AgentBoard) -> list[tuple[Waiting, AgentPresence]]:
    """Pair waiting callers with free agents, in service order. Callers nobody can serve are skipped."""
    pairs: list[tuple[Waiting, AgentPresence]] = []
    taken: set[str] = set()
    for entry in queue.ordered():
        agent = choose_agent(entry, board, taken)
        if agent is not None:
            taken.add(agent.agent_id)
            pairs.append((entry, agent))
    return pairs
