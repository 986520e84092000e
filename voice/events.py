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

    reason: str  # "bye" | "cancel" | "timeout" | "failed"
    code: int | None = None


CallEvent = Acked | Reinvite | RemoteHangup
