"""Per-call event fan-out with replay, for WebSocket subscribers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("hotline.api")
Tap = Callable[[dict[str, Any]], None]
RESERVED = frozenset({"id", "call_id", "type", "ts"})


class ReservedEventFieldError(ValueError):
    """Event data tried to set a field the bus owns (its sequence id, call id, type or timestamp)."""

    def __init__(self, kind: str, fields: frozenset[str]) -> None:
        super().__init__(f"{kind} event data may not set {', '.join(sorted(fields))}: the bus owns them")
        self.kind = kind
        self.fields = fields


@dataclass(slots=True)
class _Channel:
    events: list[dict[str, Any]] = field(default_factory=list)
    subscribers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    closed: bool = False


class EventBus:
    """Keeps each call's events (with increasing ids) and pushes them to subscribers.

    A subscriber that connects late, or reconnects with ``after``, first gets what
    it missed. Channels of ended calls are kept for the most recent ``keep_ended``.
    ``taps`` see every event of every call as it is published (the console's agent feed).
    """

    def __init__(self, keep_ended: int = 200) -> None:
        self._channels: OrderedDict[str, _Channel] = OrderedDict()
        self._keep_ended = keep_ended
        self.taps: list[Tap] = []

    def publish(self, call_id: str, kind: str, **data: Any) -> dict[str, Any]:
        """Record and fan out one event (:class:`ReservedEventFieldError` if ``data`` names a bus field)."""
        clash = RESERVED.intersection(data)
        if clash:
            raise ReservedEventFieldError(kind, frozenset(clash))
        ch = self._channels.setdefault(call_id, _Channel())
        event = {"id": len(ch.events) + 1, "call_id": call_id, "type": kind, "ts": round(time.time(), 3), **data}
        ch.events.append(event)
        for q in ch.subscribers:
            q.put_nowait(event)
        for tap in list(self.taps):
            try:
                tap(event)
            except Exception:  # a failing observer must never break the call that publishes
                log.exception("event bus tap failed")
        return event

    def close(self, call_id: str) -> None:
        """No more events for this call; subscribers get a ``None`` sentinel via :meth:`subscribe`."""
        ch = self._channels.get(call_id)
        if ch is None:
            return
        ch.closed = True
        for q in ch.subscribers:
            q.put_nowait({"type": "_closed"})
        self._channels.move_to_end(call_id)
        ended = [k for k, c in self._channels.items() if c.closed]
        for key in ended[: max(0, len(ended) - self._keep_ended)]:
            if not self._channels[key].subscribers:
                del self._channels[key]

    def history(self, call_id: str) -> list[dict[str, Any]]:
        """Every event the bus holds for this call, oldest first (empty for an unknown call)."""
        ch = self._channels.get(call_id)
        return list(ch.events) if ch is not None else []

    def known(self, call_id: str) -> bool:
        """Whether the bus holds this call."""
        return call_id in self._channels

    def subscribe(
        self, call_id: str, after: int = 0
    ) -> tuple[list[dict[str, Any]], asyncio.Queue[dict[str, Any]], bool]:
        """Backlog after ``after``, a live queue, and whether the call already ended."""
        ch = self._channels.setdefault(call_id, _Channel())
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        ch.subscribers.add(q)
        return [e for e in ch.events if e["id"] > after], q, ch.closed

    def unsubscribe(self, call_id: str, q: asyncio.Queue[dict[str, Any]]) -> None:
        """Drop a subscriber."""
        ch = self._channels.get(call_id)
        if ch is not None:
            ch.subscribers.discard(q)
