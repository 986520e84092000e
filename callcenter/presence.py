"""Agent presence: an explicit state machine per agent, and the board of all agents.

Pure and synchronous (the clock is passed in), driven by registrations, calls
and the status API. Illegal transitions raise :class:`IllegalAgentTransitionError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AgentState(StrEnum):
    """Where an agent is in their working day."""

    OFFLINE = "offline"  # no registered phone, or logged out
    AVAILABLE = "available"
    RINGING = "ringing"  # a call is being offered to their phone
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after-call work; no calls until it ends
    AWAY = "away"


_ALLOWED: dict[AgentState, frozenset[AgentState]] = {
    AgentState.OFFLINE: frozenset({AgentState.AVAILABLE, AgentState.AWAY}),
    AgentState.AVAILABLE: frozenset({AgentState.RINGING, AgentState.AWAY, AgentState.OFFLINE}),
    AgentState.RINGING: frozenset({AgentState.ON_CALL, AgentState.AVAILABLE, AgentState.AWAY, AgentState.OFFLINE}),
    AgentState.ON_CALL: frozenset({AgentState.WRAP_UP, AgentState.OFFLINE}),
    AgentState.WRAP_UP: frozenset({AgentState.AVAILABLE, AgentState.AWAY, AgentState.OFFLINE}),
    AgentState.AWAY: frozenset({AgentState.AVAILABLE, AgentState.OFFLINE}),
}

# what an agent (or supervisor) may ask for through the status API; calls drive the rest
SETTABLE = frozenset({AgentState.AVAILABLE, AgentState.AWAY, AgentState.OFFLINE})


class IllegalAgentTransitionError(RuntimeError):
    """A presence change the state machine does not allow."""

    def __init__(self, agent_id: str, current: AgentState, wanted: AgentState, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"agent {agent_id}: cannot go from {current} to {wanted}{detail}")
        self.agent_id = agent_id
        self.current = current
        self.wanted = wanted
        self.reason = reason


@dataclass
class AgentPresence:
    """The live state of one agent."""

    agent_id: str
    name: str
    username: str
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    state: AgentState = AgentState.OFFLINE
    since: float = 0.0  # clock value of the last state change
    idle_since: float = 0.0  # when they last became free: the longest-idle agent is offered first
    misses: int = 0  # offers in a row not answered
    call_id: str | None = None  # the call they are ringing for, on, or wrapping up
    history: list[tuple[float, AgentState]] = field(default_factory=list)

    def can(self, wanted: AgentState) -> bool:
        """Whether ``wanted`` is reachable in one step."""
        return wanted in _ALLOWED[self.state]

    def to(self, wanted: AgentState, now: float, reason: str = "") -> None:
        """Move to ``wanted`` or raise :class:`IllegalAgentTransitionError`."""
        if wanted == self.state:
            return
        if wanted not in _ALLOWED[self.state]:
            raise IllegalAgentTransitionError(self.agent_id, self.state, wanted, reason)
        if wanted == AgentState.AVAILABLE:
            self.idle_since = now
            self.call_id = None
        if wanted in (AgentState.OFFLINE, AgentState.AWAY):
            self.call_id = None
        self.state = wanted
        self.since = now
        self.history.append((now, wanted))
        del self.history[:-20]

    def has(self, language: str | None, skills: tuple[str, ...]) -> bool:
        """Whether the agent speaks ``language`` (None: any) and has every skill in ``skills``."""
        if language and self.languages and language not in self.languages:
            return False
        return all(s in self.skills for s in skills)
