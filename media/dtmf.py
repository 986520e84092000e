"""RFC 4733 telephone-event payloads: parse and build. Pure and synchronous."""

from __future__ import annotations

import struct
from dataclasses import dataclass

EVENTS = "0123456789*#ABCD"


class DtmfParseError(ValueError):
    """A telephone-event payload is malformed."""

    def __init__(self, reason: str, payload: bytes) -> None:
        super().__init__(f"bad telephone-event payload {payload.hex()}: {reason}")
        self.reason = reason
        self.payload = payload


@dataclass(frozen=True, slots=True)
class DtmfPayload:
    """One telephone-event payload."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        """The key, or None for events other than DTMF keys."""
        return EVENTS[self.event] if self.event < len(EVENTS) else None

    def serialize(self) -> bytes:
        """Wire format."""
        return struct.pack("!BBH", self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration)

    @classmethod
    def parse(cls, payload: bytes) -> DtmfPayload:
        """Parse the first event block of a payload."""
        if len(payload) < 4:
            raise DtmfParseError("shorter than 4 bytes", payload)
        event, flags, duration = struct.unpack_from("!BBH", payload)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)


class DtmfDetector:
    """Turns a stream of telephone-event packets into one digit per key press.

    A key press is identified by its RTP timestamp; retransmitted end packets
    and the updates during the press report nothing further.
    """

    def __init__(self) -> None:
        self._seen: set[int] = set()

    def feed(self, payload: bytes, rtp_timestamp: int) -> tuple[str, int] | None:
        """Return ``(digit, duration_in_rtp_units)`` once per press, at its end packet."""
        ev = DtmfPayload.parse(payload)
        if not ev.end or rtp_timestamp in self._seen or ev.digit is None:
            return None
        self._seen.add(rtp_timestamp)
        if len(self._seen) > 256:
            self._seen = {rtp_timestamp}
        return ev.digit, ev.duration
