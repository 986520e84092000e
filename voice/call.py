"""The asyncio-side handle of one inbound SIP call. Commands go to the sippy thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from voice.events import CallEvent

SipExec = Callable[..., None]
NumberTrust = Literal["asserted", "peer", "unverified"]  # runs a function on the sippy thread


@dataclass(frozen=True, slots=True)
class CallerInfo:
    """Who called whom, as signalled."""

    sip_call_id: str
    caller_user: str | None
    caller_number: str | None  # E.164 when it parses
    caller_display: str | None
    called: str | None
    source: tuple[str, int]
    transport: str = "udp"
    # asserted: P-Asserted-Identity from a trusted peer; peer: From of a trusted peer; unverified: anyone else's
    number_trust: NumberTrust = "unverified"

    @property
    def number_verified(self) -> bool:
        """Whether the caller's number may be believed (queue priority needs it)."""
        return self.number_trust != "unverified"


@dataclass(eq=False)
class SipCall:
    """One inbound call as seen from asyncio.

    Events (ACK, re-INVITE, hang-up) arrive on :attr:`events`; commands are
    queued to the sippy thread and never block.
    """

    info: CallerInfo
    offer_sdp: str | None
    _exec: SipExec
    _ua_ops: Any  # voice.stack.UaOps: the sippy-thread side of this call
    events: asyncio.Queue[CallEvent] = field(default_factory=asyncio.Queue)

    def ring(self) -> None:
        """Send 180 Ringing."""
        self._exec(self._ua_ops.ring)

    def answer(self, sdp: str) -> None:
        """Send 200 OK with our SDP; the ACK comes back as :class:`voice.events.Acked`."""
        self._exec(self._ua_ops.answer, sdp)

    def reject(self, code: int, reason: str, headers: dict[str, str] | None = None) -> None:
        """Send a final error response (e.g. 488, 503) before answer."""
        self._exec(self._ua_ops.reject, code, reason, headers or {})

    def accept_update(self, sdp: str) -> None:
        """Answer a re-INVITE with 200 and our SDP."""
        self._exec(self._ua_ops.accept_update, sdp)

    def refuse_update(self, code: int, reason: str) -> None:
        """Refuse a re-INVITE (e.g. 488)."""
        self._exec(self._ua_ops.reject, code, reason, {})

    def hangup(self) -> None:
        """Send BYE (or a 480 before answer)."""
        self._exec(self._ua_ops.hangup)
