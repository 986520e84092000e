"""Each agent's live feed for the console: the events of their calls and their own presence, resumable by id.

The feed taps the event bus. When a call is ``offered`` to an agent, that agent's feed first gets every
earlier event of the call (greeting, transcript so far, reason, verification, an earlier agent's leg), then
each new one, until the agent is out of the call (the offer went unanswered, they transferred the caller, or
the call ended). Presence changes of the agent come from the board. Every feed event has an id increasing per
agent; a client that reconnects with the last id it saw gets exactly what it missed. Transcript text is
redacted before it enters the feed, so raw text never reaches the console.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from callcenter.board import AgentBoard
from callcenter.presence import AgentPresence
from calls.bus import EventBus
from core.events import PresenceChanged
from privacy import PrivacySettings, redact, redact_event

log = logging.getLogger("hotline.console")
KEEP_EVENTS = 5000  # per agent; a client further behind is told to start over
LEAVES = ("no_answer", "offer_failed")  # the offer to agent_id is over
Event = dict[str, Any]
LanguageOf = Callable[[str], str | None]


@dataclass(slots=True)
class _AgentLog:
    events: deque[Event]
    next_id: int = 1
    subscribers: set[asyncio.Queue[Event]] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a (re)connecting client gets: the events after its id, a live queue, and whether to start over.

    ``reset`` is true when the client's id is from another server run (``epoch``) or older than the feed
    keeps: the backlog then holds everything kept, and the client should clear what it shows first.
    """

    agent_id: str
    backlog: list[Event]
    queue: asyncio.Queue[Event]
    reset: bool


class AgentFeed:
    """Per-agent event logs fed by the bus (``on_call_event``) and the board (``on_presence``). Runs in the loop."""

    def __init__(self, bus: EventBus, privacy: PrivacySettings, language_of: LanguageOf | None = None,
                 keep: int = KEEP_EVENTS) -> None:
        self.bus = bus
        self.privacy = privacy
        self.language_of = language_of or (lambda call_id: None)
        self.keep = keep
        self.epoch = secrets.token_hex(8)  # ids restart with the process; clients tell runs apart by this
        self._logs: dict[str, _AgentLog] = {}
        self._in_call: dict[str, set[str]] = {}  # call id -> agents currently following it
        self._sent: dict[str, dict[str, int]] = {}  # call id -> agent id -> last call event id in that feed

    def attach(self, board: AgentBoard) -> None:
        """Start following every call on the bus and every presence change on the board."""
        self.bus.taps.append(self.on_call_event)
        board.listeners.append(self.on_presence)

    # -- inputs ----------------------------------------------------------------------------------------------
    def on_call_event(self, event: Event) -> None:
        """A bus event of any call."""
        call_id, kind = str(event["call_id"]), event.get("type")
        if kind == "offered" and event.get("agent_id"):
            self._follow(call_id, str(event["agent_id"]), event["id"])
        followers = self._in_call.get(call_id)
        if followers:
            view = self._view(event)
            for agent_id in sorted(followers):
                self._deliver(agent_id, call_id, event["id"], view)
        if kind in LEAVES:
            self._unfollow(call_id, event.get("agent_id"))
        elif kind == "transferred":
            self._unfollow(call_id, event.get("from_agent"))
        elif kind == "state" and event.get("state") == "ended":
            self._in_call.pop(call_id, None)
            self._sent.pop(call_id, None)

    def on_presence(self, agent: AgentPresence) -> None:
        """The board moved an agent to another state."""
        self.append(agent.agent_id, PresenceChanged(agent_id=agent.agent_id, state=agent.state.value,
                                                    call_id=agent.call_id).data())

    # -- clients ---------------------------------------------------------------------------------------------
    def subscribe(self, agent_id: str, after: int = 0, epoch: str | None = None) -> Subscription:
        """Events of ``agent_id`` after id ``after`` (from run ``epoch``, when the client knows it), then live."""
        log_ = self._log(agent_id)
        reset = epoch is not None and epoch != self.epoch
        oldest = log_.events[0]["id"] if log_.events else log_.next_id
        if reset or after >= log_.next_id or (after and after < oldest - 1):
            reset, after = reset or after > 0, 0
        q: asyncio.Queue[Event] = asyncio.Queue()
        log_.subscribers.add(q)
        return Subscription(agent_id, [e for e in log_.events if e["id"] > after], q, reset)

    def unsubscribe(self, sub: Subscription) -> None:
        """Drop a client's queue."""
        log_ = self._logs.get(sub.agent_id)
        if log_ is not None:
            log_.subscribers.discard(sub.queue)

    def last_id(self, agent_id: str) -> int:
        """The id of the agent's newest event (0: none yet)."""
        log_ = self._logs.get(agent_id)
        return log_.next_id - 1 if log_ is not None else 0

    def append(self, agent_id: str, data: Event) -> Event:
        """Add an event to one agent's feed and push it to their clients."""
        log_ = self._log(agent_id)
        event = {**data, "id": log_.next_id}
        log_.next_id += 1
        log_.events.append(event)
        for q in log_.subscribers:
            q.put_nowait(event)
        return event

    # -- internals ---------------------------------------------------------------------------------------------
    def _log(self, agent_id: str) -> _AgentLog:
        log_ = self._logs.get(agent_id)
        if log_ is None:
            log_ = self._logs[agent_id] = _AgentLog(deque(maxlen=self.keep))
        return log_

    def _follow(self, call_id: str, agent_id: str, offered_id: int) -> None:
        """The agent joins the call: replay what came before the offer (what they have not seen yet)."""
        self._in_call.setdefault(call_id, set()).add(agent_id)
        sent = self._sent.get(call_id, {}).get(agent_id, 0)
        for past in self.bus.history(call_id):
            if sent < past["id"] < offered_id:
                self._deliver(agent_id, call_id, past["id"], self._view(past))

    def _unfollow(self, call_id: str, agent_id: Any) -> None:
        """The agent leaves the call; what they were sent is remembered, so a new offer replays only the rest."""
        followers = self._in_call.get(call_id)
        if followers is not None and isinstance(agent_id, str):
            followers.discard(agent_id)

    def _deliver(self, agent_id: str, call_id: str, call_event_id: int, view: Event) -> None:
        sent = self._sent.setdefault(call_id, {})
        if call_event_id <= sent.get(agent_id, 0):
            return
        sent[agent_id] = call_event_id
        self.append(agent_id, view)

    def _view(self, event: Event) -> Event:
        """A call event as an agent may see it: transcript and reason text redacted; ``id`` becomes
        ``call_event_id`` (the feed numbers its own events)."""
        language = self.language_of(str(event["call_id"]))
        try:
            data = redact_event(event, "agent", self.privacy, language=language)
            if data.get("type") == "reason" and isinstance(data.get("text"), str):
                data["text"] = redact(data["text"], language, kinds=self.privacy.kinds).text
        except Exception:  # never let a redaction bug show raw text: drop the text instead
            log.exception("could not redact a %s event", event.get("type"))
            data = {k: v for k, v in event.items() if k not in ("text", "words")}
        data["call_event_id"] = data.pop("id")
        return data

