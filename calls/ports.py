"""The ports of a call: what its collaborators may ask of it, and of each other.

:class:`calls.service.CallService` implements :class:`CallPort` for its :class:`calls.routing.CallRouting`;
the routing implements :class:`ConsultHost` for a :class:`calls.consult.Consultation`; both ring agents
through a :data:`LegFactory` (by default :class:`calls.agentleg.AgentLeg`). Tests drive each side through
these Protocols with named fakes instead of a running server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from callcenter.presence import AgentPresence
from callcenter.queueing import Waiting
from callcenter.router import Router
from calls.agentleg import RingOutcome
from calls.context import AppContext
from calls.recognition import LegRecognition
from core.events import CallEventModel
from media.bridge import Bridge
from media.session import RtpSession
from voice.call import CallerInfo
from voice.events import CallEvent


class CallPort(Protocol):
    """One caller's call, as its routing sees it."""

    @property
    def id(self) -> str:
        """The call id."""
        ...

    @property
    def language(self) -> str:
        """The call's recognition and announcement language."""
        ...

    @property
    def info(self) -> CallerInfo:
        """Who called whom."""
        ...

    @property
    def session(self) -> RtpSession | None:
        """The caller's media session (None before the call is answered)."""
        ...

    @property
    def ended(self) -> bool:
        """Whether the call is over (its clean-up has begun)."""
        ...

    def publish(self, event: CallEventModel) -> None:
        """Publish an event of this call (live only)."""

    def record(self, event: CallEventModel) -> None:
        """Publish an event of this call and queue it on the call's timeline."""

    def store_update(self, **values: Any) -> None:
        """Queue an update of the call's row."""

    def heard_reason(self, said: str, reason: str) -> None:
        """The caller said ``said`` before reaching an agent; ``reason`` is all they said so far."""

    def relay_dtmf(self, digit: str, at: float) -> None:
        """A key pressed on an agent's phone."""

    def consume(self, rec: LegRecognition) -> None:
        """Take a leg's recognition into the call's transcript."""

    def end(self, reason: str) -> None:
        """Hang up the caller and end the call with ``reason`` (e.g. ``agent_hangup``)."""


class AgentLegPort(Protocol):
    """One offer to one agent; once answered, the agent's half of the bridged call."""

    agent: AgentPresence
    session: RtpSession | None
    bridge: Bridge | None
    answered: bool
    closed: bool

    async def ring(self, codecs: list[str], caller: str, display: str | None) -> RingOutcome:
        """Ring the agent's phone; how the offer ended."""
        ...

    def join(self, caller: RtpSession) -> Bridge:
        """Bridge the agent's media with the caller's."""
        ...

    async def next_event(self) -> CallEvent:
        """The agent phone's next hang-up, REFER or failure."""
        ...

    async def close(self, hangup: bool = True) -> None:
        """End the leg (hang up unless the phone already did) and free its resources."""


LegFactory = Callable[[AgentPresence], AgentLegPort]
"""Builds the leg that rings one agent for a call."""


class ConsultHost(Protocol):
    """A routed call as a consultation sees it."""

    @property
    def id(self) -> str:
        """The call id."""
        ...

    @property
    def ctx(self) -> AppContext:
        """The running Hotline's shared parts."""
        ...

    @property
    def router(self) -> Router:
        """The router (presence changes of the consulted agent go through it)."""
        ...

    @property
    def call(self) -> CallPort:
        """The caller's call."""
        ...

    @property
    def entry(self) -> Waiting | None:
        """The caller's queue entry (None before queueing)."""
        ...

    def new_leg(self, agent: AgentPresence) -> AgentLegPort:
        """A leg to ring ``agent``."""
        ...

    def record(self, event: CallEventModel) -> None:
        """Publish and store a timeline event of the call."""

    def hold_music(self) -> None:
        """Play hold music to the caller."""

    def stop_hold_music(self) -> None:
        """Stop hold music."""

    def free_agent(self, agent: AgentPresence) -> None:
        """The agent's part in the call is over."""

    def adopt(self, leg: AgentLegPort) -> None:
        """Make ``leg`` the caller's agent leg."""
