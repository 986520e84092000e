"""Per-call event fan-out with replay, for WebSocket subscribers.

Producers publish typed events (:mod:`core.events`); subscribers get JSON-ready envelopes
``{"id", "call_id", "type", "ts", ...fields}`` and, once the call ended, :data:`CLOSED`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.events import CallEventModel

log = logging.getLogger("hotline.api")
Envelope = dict[str, Any]
Tap = Callable[[Envelope], None]


class ChannelClosed:
    """The message a subscriber gets after a call's last event: the call ended."""

    _instance: ChannelClosed | None = None

    def __new__(cls) -> ChannelClosed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "CLOSED"


CLOSED = ChannelClosed()
Message = Envelope | ChannelClosed


@dataclass(slots=True)
class _Channel:
    events: list[Envelope] = field(default_factory=list)
    subscribers: set[asyncio.Queue[Message]] = field(default_factory=set)
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

    def publish(self, call_id: str, event: CallEventModel) -> Envelope:
        """Record and fan out one event; returns its envelope."""
        ch = self._channels.setdefault(call_id, _Channel())
        envelope: Envelope = {"id": len(ch.events) + 1, "call_id": call_id, "ts": round(time.time(), 3),
                              **event.data()}
        ch.events.append(envelope)
        for q in ch.subscribers:
            q.put_nowait(envelope)
        for tap in list(self.taps):
            try:
                tap(envelope)
            except Exception:  # a failing observer must never break the call that publishes
                log.exception("event bus tap failed")
        return envelope

    def close(self, call_id: str) -> None:
        """No more events for this call; subscribers get :data:`CLOSED`."""
        ch = self._channels.get(call_id)
        if ch is None:
            return
        ch.closed = True
        for q in ch.subscribers:
            q.put_nowait(CLOSED)
        self._channels.move_to_end(call_id)
        ended = [k for k, c in self._channels.items() if c.closed]
        for key in ended[: max(0, len(ended) - self._keep_ended)]:
            if not self._channels[key].subscribers:
                del self._channels[key]

    def history(self, call_id: str) -> list[Envelope]:
        """Every event the bus holds for this call, oldest first (empty for an unknown call)."""
        ch = self._channels.get(call_id)
        return list(ch.events) if ch is not None else []

    def known(self, call_id: str) -> bool:
        """Whether the bus holds this call."""
        return call_id in self._channels

    def subscribe(
        self, call_id: str, after: int = 0
    ) -> tuple[list[Envelope], asyncio.Queue[Message], bool]:
        """Backlog after ``after``, a live queue, and whether the call already ended."""
        ch = self._channels.setdefault(call_id, _Channel())
        q: asyncio.Queue[Message] = asyncio.Queue()
        ch.subscribers.add(q)
        return [e for e in ch.events if e["id"] > after], q, ch.closed

    def unsubscribe(self, call_id: str, q: asyncio.Queue[Message]) -> None:
        """Drop a subscriber."""
        ch = self._channels.get(call_id)
        if ch is not None:
            ch.subscribers.discard(q)
