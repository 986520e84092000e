"""Typed call events handed from the SIP thread to asyncio. No sippy objects cross."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Acked:
    """The caller's ACK arrived; ``sdp`` is set for a late-offer answer."""

    sdp: str | None


@dataclass(frozen=True, slots=True)
class Reinvite:
    """A re-INVITE (hold, unhold, media change); must be answered with :meth:`SipCall.accept_update`."""

    sdp: str | None


@dataclass(frozen=True, slots=True)
class RemoteHangup:
    """The caller hung up: BYE after answer, or CANCEL before."""

    reason: str  # "bye" | "cancel" | "timeout" | "failed" | "dead"
    code: int | None = None


@dataclass(frozen=True, slots=True)
class Ringing:
    """An outbound call's callee is alerting (18x) or trying (100)."""

    code: int


@dataclass(frozen=True, slots=True)
class Answered:
    """An outbound call was answered (200 OK); ``sdp`` is the callee's answer."""

    sdp: str | None


@dataclass(frozen=True, slots=True)
class Failed:
    """An outbound call got a final error response or timed out before answer."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ReferRequested:
    """The remote party asked for a blind transfer (REFER); the dialog is ended by the stack."""

    target: str  # the Refer-To URI


CallEvent = Acked | Reinvite | RemoteHangup | Ringing | Answered | Failed | ReferRequested
