"""RTP packets (RFC 3550): parse and build. Pure and synchronous."""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HEADER = struct.Struct("!BBHII")


class RtpParseError(ValueError):
    """A datagram is not a valid RTP packet."""

    def __init__(self, reason: str, length: int) -> None:
        super().__init__(f"bad RTP packet ({length} bytes): {reason}")
        self.reason = reason
        self.length = length


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def serialize(self) -> bytes:
        """Wire format (version 2, no padding, no extension, no CSRC)."""
        b0 = 0x80
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        return _HEADER.pack(b0, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc) + self.payload

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse a datagram; raises :class:`RtpParseError` on anything malformed."""
        if len(data) < _HEADER.size:
            raise RtpParseError("shorter than the 12-byte header", len(data))
        b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != 2:
            raise RtpParseError(f"version {b0 >> 6}", len(data))
        pt = b1 & 0x7F
        if 72 <= pt <= 76:
            raise RtpParseError("RTCP packet on the RTP port", len(data))
        offset = _HEADER.size + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension
            if len(data) < offset + 4:
                raise RtpParseError("truncated extension header", len(data))
            (ext_words,) = struct.unpack_from("!H", data, offset + 2)
            offset += 4 + 4 * ext_words
        end = len(data)
        if b0 & 0x20:  # padding
            pad = data[-1]
            if pad == 0 or pad > end - offset:
                raise RtpParseError("bad padding length", len(data))
            end -= pad
        if offset > end:
            raise RtpParseError("header longer than packet", len(data))
        return cls(pt, seq, ts, ssrc, bytes(data[offset:end]), bool(b1 & 0x80))


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b between 16-bit sequence numbers."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000
