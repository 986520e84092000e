import struct

import pytest

from media.rtp import RtpPacket, RtpParseError, seq_diff


def header(b0=0x80, b1=0, seq=1, ts=2, ssrc=3):
    return struct.pack("!BBHII", b0, b1, seq, ts, ssrc)


def test_serialize_layout():
    pkt = RtpPacket(payload_type=8, sequence=0x1234, timestamp=0xDEADBEEF, ssrc=0x01020304, payload=b"abc")
    data = pkt.serialize()
    assert data == b"\x80\x08\x12\x34\xde\xad\xbe\xef\x01\x02\x03\x04abc"


def test_serialize_marker_bit():
    data = RtpPacket(0, 1, 2, 3, b"", marker=True).serialize()
    assert data[1] == 0x80
    assert len(data) == 12


@pytest.mark.parametrize(
    "pkt",
    [
        RtpPacket(0, 0, 0, 0, b""),
        RtpPacket(0, 1, 160, 42, bytes(160), marker=True),
        RtpPacket(101, 65535, 0xFFFFFFFF, 0xFFFFFFFF, b"\x05\x0a\x00\xa0"),
        RtpPacket(127, 32768, 1 << 31, 1, b"\xff" * 1000, marker=False),
        RtpPacket(9, 7, 8, 9, b"x", marker=True),
    ],
)
def test_round_trip(pkt):
    assert RtpPacket.parse(pkt.serialize()) == pkt


def test_serialize_wraps_sequence_and_timestamp():
    data = RtpPacket(0, 0x10005, 0x100000007, 1, b"").serialize()
    parsed = RtpPacket.parse(data)
    assert (parsed.sequence, parsed.timestamp) == (5, 7)


def test_parse_accepts_bytearray_and_returns_bytes_payload():
    pkt = RtpPacket.parse(bytearray(header(b1=0x80) + b"hello"))
    assert pkt.payload == b"hello"
    assert type(pkt.payload) is bytes
    assert pkt.marker is True


def test_parse_fields():
    pkt = RtpPacket.parse(header(b1=0x80 | 101, seq=500, ts=123456, ssrc=0xCAFEBABE) + b"\x01\x02")
    assert pkt == RtpPacket(101, 500, 123456, 0xCAFEBABE, b"\x01\x02", True)


def test_parse_skips_csrc_list():
    csrcs = struct.pack("!II", 0x11111111, 0x22222222)
    pkt = RtpPacket.parse(header(b0=0x82) + csrcs + b"payload")
    assert pkt.payload == b"payload"
    assert pkt.ssrc == 3


def test_parse_skips_extension_header():
    ext = struct.pack("!HH", 0xBEDE, 2) + b"\xaa" * 8
    pkt = RtpPacket.parse(header(b0=0x90) + ext + b"payload")
    assert pkt.payload == b"payload"


def test_parse_empty_extension():
    ext = struct.pack("!HH", 0xBEDE, 0)
    assert RtpPacket.parse(header(b0=0x90) + ext + b"p").payload == b"p"


def test_parse_strips_padding():
    pkt = RtpPacket.parse(header(b0=0xA0) + b"payload" + b"\x00\x00\x03")
    assert pkt.payload == b"payload"


def test_padding_may_consume_entire_payload():
    assert RtpPacket.parse(header(b0=0xA0) + b"\x00\x00\x00\x04").payload == b""


def test_parse_csrc_extension_and_padding_together():
    data = header(b0=0xB1) + b"\x00" * 4 + struct.pack("!HH", 0x1000, 1) + b"\x00" * 4 + b"audio" + b"\x00\x02"
    assert RtpPacket.parse(data).payload == b"audio"


def check_error(data: bytes, fragment: str) -> RtpParseError:
    with pytest.raises(RtpParseError) as info:
        RtpPacket.parse(data)
    err = info.value
    assert err.length == len(data)
    assert fragment in err.reason
    assert isinstance(err, ValueError)
    assert str(len(data)) in str(err)
    return err


@pytest.mark.parametrize("n", [0, 1, 11])
def test_short_packet(n):
    check_error(header()[:n], "shorter")


@pytest.mark.parametrize(("b0", "version"), [(0x40, 1), (0x00, 0), (0xC0, 3)])
def test_wrong_version(b0, version):
    err = check_error(header(b0=b0) + b"x", "version")
    assert err.reason == f"version {version}"


@pytest.mark.parametrize("rtcp_type", [200, 201, 202, 203, 204])
def test_rtcp_packet_types_rejected(rtcp_type):
    # RTCP SR/RR/SDES/BYE/APP look like RTP with marker set and PT 72-76
    data = bytes([0x80, rtcp_type]) + b"\x00\x06" + b"\x00" * 24
    assert rtcp_type & 0x7F in range(72, 77)
    check_error(data, "RTCP")


def test_zero_padding_length_rejected():
    check_error(header(b0=0xA0) + b"payload\x00", "padding")


def test_padding_longer_than_payload_rejected():
    check_error(header(b0=0xA0) + b"ab\x09", "padding")


def test_truncated_extension_header():
    check_error(header(b0=0x90) + b"\xbe\xde", "extension")


def test_extension_longer_than_packet():
    check_error(header(b0=0x90) + struct.pack("!HH", 0xBEDE, 10) + b"\x00" * 8, "longer than packet")


def test_csrc_count_longer_than_packet():
    check_error(header(b0=0x8F) + b"\x00" * 8, "longer than packet")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (5, 3, 2),
        (3, 5, -2),
        (0, 65535, 1),
        (65535, 0, -1),
        (1, 65534, 3),
        (100, 100, 0),
        (32767, 0, 32767),
        (32768, 0, -32768),
        (0, 32768, -32768),
    ],
)
def test_seq_diff(a, b, expected):
    assert seq_diff(a, b) == expected
