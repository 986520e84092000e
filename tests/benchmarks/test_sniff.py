"""The benchmarks' loopback frame parser, on frames built byte by byte."""

from __future__ import annotations

import struct

from benchmarks.sniff import rtp_on_loopback


def frame(dport: int, rtp: bytes, proto: int = 17, ethertype: bytes = b"\x08\x00", sport: int = 40000) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(rtp), 0, 0, 64, proto, 0, b"\x7f\0\0\1", b"\x7f\0\0\1")
    udp = struct.pack("!HHHH", sport, dport, 8 + len(rtp), 0)
    return b"\0" * 12 + ethertype + ip + udp + rtp


RTP = bytes([0x80, 0]) + struct.pack("!HII", 7, 160, 0xABCD) + b"\xff" * 160


def test_an_incoming_rtp_packet_in_range_is_found():
    assert rtp_on_loopback(frame(20000, RTP), False, 20000, 20010) == (40000, 20000, RTP)


def test_everything_else_is_not():
    assert rtp_on_loopback(frame(20000, RTP), True, 20000, 20010) is None  # the outgoing copy on lo
    assert rtp_on_loopback(frame(20011, RTP), False, 20000, 20010) is None  # another port
    assert rtp_on_loopback(frame(20000, RTP, proto=6), False, 20000, 20010) is None  # TCP
    assert rtp_on_loopback(frame(20000, RTP, ethertype=b"\x86\xdd"), False, 20000, 20010) is None  # IPv6
    assert rtp_on_loopback(frame(20000, b"\x40" + RTP[1:]), False, 20000, 20010) is None  # not RTP version 2
    assert rtp_on_loopback(frame(20000, RTP[:8]), False, 20000, 20010) is None  # too short
