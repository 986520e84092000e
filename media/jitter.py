"""A reordering jitter buffer. Pure and synchronous.

Packets go in as they arrive; they come out in sequence order. A gap is held
open for up to ``depth`` packets; after that the missing packet is declared
lost and reported as ``None`` so the caller can conceal it. Packets older than
what was already released are late and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from media.rtp import RtpPacket, seq_diff

_RESYNC = 200  # a jump this large in either direction means the sender restarted


@dataclass(slots=True)
class JitterStats:
    """Counters a session exports."""

    received: int = 0
    late: int = 0
    duplicate: int = 0
    lost: int = 0
    resyncs: int = 0


@dataclass(slots=True)
class JitterBuffer:
    """Reorders RTP packets of one SSRC stream."""

    depth: int = 3
    stats: JitterStats = field(default_factory=JitterStats)
    _next: int | None = None
    _ssrc: int | None = None
    _held: dict[int, RtpPacket] = field(default_factory=dict)

    def push(self, packet: RtpPacket) -> list[RtpPacket | None]:
        """Add a packet; return what is now ready, in order (``None`` = a lost packet)."""
        self.stats.received += 1
        if self._ssrc != packet.ssrc or self._next is None:
            out = self.flush() if self._ssrc is not None else []
            self._ssrc = packet.ssrc
            self._next = packet.sequence
            return out + self._accept(packet)
        dist = seq_diff(packet.sequence, self._next)
        if dist < 0:
            if dist > -_RESYNC:
                self.stats.late += 1
                return []
            return self._resync(packet)
        if dist > _RESYNC:
            return self._resync(packet)
        return self._accept(packet)

    def flush(self) -> list[RtpPacket | None]:
        """Release everything held, with ``None`` for the holes between."""
        out: list[RtpPacket | None] = []
        while self._held and self._next is not None:
            pkt = self._held.pop(self._next, None)
            if pkt is None:
                self.stats.lost += 1
            out.append(pkt)
            self._next = (self._next + 1) & 0xFFFF
        return out

    def _resync(self, packet: RtpPacket) -> list[RtpPacket | None]:
        self.stats.resyncs += 1
        out = self.flush()
        self._next = packet.sequence
        return out + self._accept(packet)

    def _accept(self, packet: RtpPacket) -> list[RtpPacket | None]:
        if packet.sequence in self._held:
            self.stats.duplicate += 1
            return []
        self._held[packet.sequence] = packet
        out: list[RtpPacket | None] = []
        assert self._next is not None
        while True:
            pkt = self._held.pop(self._next, None)
            if pkt is None:
                if len(self._held) <= self.depth:
                    break
                self.stats.lost += 1
            out.append(pkt)
            self._next = (self._next + 1) & 0xFFFF
        return out
