import pytest

from media.codecs import G722_SPEC, PCMA, PCMU
from media.sdp import (
    AudioOffer,
    Negotiated,
    NoCommonCodecError,
    SdpBuilder,
    SdpError,
    negotiate,
    parse_offer,
)

ALL = ["PCMU", "PCMA", "G722"]

TYPICAL = """v=0
o=caller 2890844526 2890844526 IN IP4 192.0.2.10
s=call
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""


def offer(m_line: str, *attrs: str, conn: str = "c=IN IP4 192.0.2.10") -> str:
    lines = ["v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", conn, "t=0 0", m_line, *attrs]
    return "\r\n".join(lines) + "\r\n"


def test_parse_typical_offer():
    o = parse_offer(TYPICAL)
    assert o == AudioOffer(
        address="192.0.2.10",
        port=49170,
        formats=[(0, "PCMU/8000"), (8, "PCMA/8000")],
        telephone_event_pt=101,
        direction="sendrecv",
        ptime=20,
    )
    assert o.on_hold is False


def test_parse_crlf_equals_lf():
    assert parse_offer(TYPICAL.replace("\n", "\r\n")) == parse_offer(TYPICAL)


def test_static_payload_types_without_rtpmap():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 9 0 8"))
    assert o.formats == [(9, "G722/8000"), (0, "PCMU/8000"), (8, "PCMA/8000")]
    assert o.telephone_event_pt is None
    assert o.ptime is None


def test_media_level_connection_overrides_session_level():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.7"))
    assert o.address == "198.51.100.7"


def test_connection_ttl_suffix_stripped():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 0", conn="c=IN IP4 224.2.1.1/127"))
    assert o.address == "224.2.1.1"


def test_ipv6_connection():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 0", conn="c=IN IP6 2001:db8::1"))
    assert o.address == "2001:db8::1"


def test_lines_without_equals_sign_ignored():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 0", "aXinactive", "a sendonly", "c:IN IP4 10.0.0.1", "x"))
    assert (o.direction, o.address) == ("sendrecv", "192.0.2.10")


def test_port_with_count():
    assert parse_offer(offer("m=audio 4000/2 RTP/AVP 0")).port == 4000


def test_first_telephone_event_wins_and_is_not_a_format():
    o = parse_offer(
        offer(
            "m=audio 4000 RTP/AVP 0 101 100",
            "a=rtpmap:101 telephone-event/8000",
            "a=rtpmap:100 telephone-event/8000",
        )
    )
    assert o.telephone_event_pt == 101
    assert o.formats == [(0, "PCMU/8000")]


def test_only_first_audio_stream_used():
    o = parse_offer(
        offer(
            "m=audio 4000 RTP/AVP 0",
            "a=sendrecv",
            "m=audio 5000 RTP/AVP 8",
            "a=rtpmap:8 PCMA/8000",
            "a=inactive",
            "c=IN IP4 10.9.9.9",
        )
    )
    assert (o.port, o.formats, o.direction, o.address) == (4000, [(0, "PCMU/8000")], "sendrecv", "192.0.2.10")


def test_later_video_stream_does_not_leak_into_audio():
    o = parse_offer(
        offer(
            "m=audio 4000 RTP/AVP 0",
            "m=video 5004 RTP/AVP 96",
            "c=IN IP4 10.9.9.9",
            "a=rtpmap:96 H264/90000",
            "a=sendonly",
        )
    )
    assert (o.address, o.direction, o.formats) == ("192.0.2.10", "sendrecv", [(0, "PCMU/8000")])


def test_earlier_video_stream_does_not_leak_into_audio():
    o = parse_offer(
        offer(
            "m=video 5004 RTP/AVP 96",
            "c=IN IP4 10.9.9.9",
            "a=rtpmap:96 H264/90000",
            "a=inactive",
            "m=audio 4000 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
        )
    )
    assert o.address == "192.0.2.10"
    assert o.direction == "sendrecv"
    assert o.on_hold is False


@pytest.mark.parametrize(
    ("attrs", "conn", "direction", "hold"),
    [
        (["a=sendonly"], "c=IN IP4 192.0.2.10", "sendonly", True),
        (["a=inactive"], "c=IN IP4 192.0.2.10", "inactive", True),
        (["a=recvonly"], "c=IN IP4 192.0.2.10", "recvonly", False),
        (["a=sendrecv"], "c=IN IP4 192.0.2.10", "sendrecv", False),
        ([], "c=IN IP4 0.0.0.0", "sendrecv", True),
        ([], "c=IN IP6 ::", "sendrecv", True),
    ],
)
def test_hold_detection(attrs, conn, direction, hold):
    o = parse_offer(offer("m=audio 4000 RTP/AVP 0", *attrs, conn=conn))
    assert o.direction == direction
    assert o.on_hold is hold


def test_session_level_direction_applies_to_audio():
    text = TYPICAL.replace("t=0 0\n", "t=0 0\na=sendonly\n").replace("a=sendrecv\n", "")
    assert parse_offer(text).direction == "sendonly"


def test_media_level_direction_overrides_session_level():
    text = TYPICAL.replace("t=0 0\n", "t=0 0\na=inactive\n")
    assert parse_offer(text).direction == "sendrecv"


def test_port_zero_is_inactive():
    o = parse_offer(offer("m=audio 0 RTP/AVP 0"))
    assert o.direction == "inactive"
    assert o.on_hold


@pytest.mark.parametrize("m_line", ["m=audio abc RTP/AVP 0", "m=audio 4000 RTP/AVP 0 PCMU", "m=audio /2 RTP/AVP 0",
                                    "m=audio 99999999 RTP/AVP 0", "m=audio -1 RTP/AVP 0", "m=audio 4000 RTP/AVP 300"])
def test_malformed_m_line(m_line):
    with pytest.raises(SdpError) as info:
        parse_offer(offer(m_line))
    assert "m-line" in info.value.reason
    assert not isinstance(info.value, NoCommonCodecError)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n",
        offer("m=video 5004 RTP/AVP 96"),
        offer("m=audio 4000 RTP/AVP"),  # no formats: not an audio line
        "garbage without equals signs\n",
    ],
)
def test_no_audio_stream(text):
    with pytest.raises(SdpError) as info:
        parse_offer(text)
    assert info.value.reason == "no audio stream"


def test_no_connection_address():
    with pytest.raises(SdpError) as info:
        parse_offer("v=0\r\nm=audio 4000 RTP/AVP 0\r\n")
    assert "connection" in info.value.reason


# -- negotiate ---------------------------------------------------------------


def test_negotiate_typical():
    neg = negotiate(parse_offer(TYPICAL), ALL)
    assert neg == Negotiated(PCMU, 0, 101, ("192.0.2.10", 49170), "sendrecv")


def test_offer_preference_wins():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 9 0 8"))
    assert negotiate(o, ["PCMU", "PCMA", "G722"]).codec is G722_SPEC
    assert negotiate(o, ["PCMU", "PCMA"]).codec is PCMU
    assert negotiate(o, ["PCMA"]).codec is PCMA


def test_pcma_first():
    neg = negotiate(parse_offer(offer("m=audio 4000 RTP/AVP 8 0")), ALL)
    assert (neg.codec, neg.payload_type) == (PCMA, 8)


def test_dynamic_payload_type_kept():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 97", "a=rtpmap:97 pcmu/8000"))
    neg = negotiate(o, ALL)
    assert (neg.codec, neg.payload_type) == (PCMU, 97)


def test_wrong_clock_rate_skipped():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 96 8", "a=rtpmap:96 PCMU/16000"))
    assert negotiate(o, ALL).codec is PCMA


def test_unsupported_codecs_only():
    o = parse_offer(
        offer("m=audio 4000 RTP/AVP 18 96 101", "a=rtpmap:96 opus/48000/2", "a=rtpmap:101 telephone-event/8000")
    )
    with pytest.raises(NoCommonCodecError) as info:
        negotiate(o, ALL)
    assert info.value.offered == ("18", "opus/48000/2")
    assert isinstance(info.value, SdpError)
    assert "opus/48000/2" in str(info.value)


def test_unsupported_named_codec_reported_by_name():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 18", "a=rtpmap:18 G729/8000"))
    with pytest.raises(NoCommonCodecError) as info:
        negotiate(o, ALL)
    assert info.value.offered == ("G729/8000",)


def test_supported_but_not_accepted():
    o = parse_offer(offer("m=audio 4000 RTP/AVP 9"))
    with pytest.raises(NoCommonCodecError):
        negotiate(o, ["PCMU"])


def test_negotiated_direction_and_remote():
    o = parse_offer(offer("m=audio 6000 RTP/AVP 0", "a=sendonly", conn="c=IN IP4 10.1.2.3"))
    neg = negotiate(o, ALL)
    assert neg.direction == "sendonly"
    assert neg.remote == ("10.1.2.3", 6000)
    assert neg.telephone_event_pt is None


# -- builder -------------------------------------------------------------------


def test_answer_content():
    neg = negotiate(parse_offer(TYPICAL), ALL)
    b = SdpBuilder("203.0.113.5", session_id=777)
    text = b.answer(30000, neg)
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert lines[0] == "v=0"
    assert "o=hotline 777 1 IN IP4 203.0.113.5" in lines
    assert "c=IN IP4 203.0.113.5" in lines
    assert "m=audio 30000 RTP/AVP 0 101" in lines
    assert "a=rtpmap:0 PCMU/8000" in lines
    assert "a=rtpmap:101 telephone-event/8000" in lines
    assert "a=fmtp:101 0-15" in lines
    assert "a=ptime:20" in lines
    assert "a=sendrecv" in lines
    assert not any("PCMA" in line for line in lines)


@pytest.mark.parametrize(
    ("offered", "answered"),
    [("sendonly", "recvonly"), ("recvonly", "sendonly"), ("inactive", "inactive"), ("sendrecv", "sendrecv")],
)
def test_answer_direction(offered, answered):
    neg = negotiate(parse_offer(offer("m=audio 4000 RTP/AVP 0", f"a={offered}")), ALL)
    text = SdpBuilder("203.0.113.5").answer(30000, neg)
    lines = text.split("\r\n")
    assert f"a={answered}" in lines
    assert sum(line in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive") for line in lines) == 1


def test_answer_without_telephone_event():
    neg = Negotiated(G722_SPEC, 9, None, ("1.2.3.4", 5))
    text = SdpBuilder("203.0.113.5").answer(30002, neg)
    assert "m=audio 30002 RTP/AVP 9\r\n" in text
    assert "a=rtpmap:9 G722/8000" in text
    assert "telephone-event" not in text


def test_answer_parses_back():
    neg = negotiate(
        parse_offer(offer("m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly")), ALL
    )
    back = parse_offer(SdpBuilder("203.0.113.5").answer(30004, neg))
    assert back == AudioOffer("203.0.113.5", 30004, [(8, "PCMA/8000")], 101, "recvonly", 20)


def test_builder_version_increments_and_session_id_stable():
    b = SdpBuilder("203.0.113.5", session_id=42)
    neg = Negotiated(PCMU, 0, 101, ("1.2.3.4", 5))
    origins = []
    for _ in range(3):
        text = b.answer(30000, neg)
        origins.append(next(line for line in text.split("\r\n") if line.startswith("o=")))
    b.offer(30000, ["PCMU"])
    assert origins == [f"o=hotline 42 {v} IN IP4 203.0.113.5" for v in (1, 2, 3)]
    assert b.version == 4


def test_builder_ipv6():
    text = SdpBuilder("2001:db8::5", session_id=1).offer(30000, ["PCMU"])
    assert "c=IN IP6 2001:db8::5" in text
    assert "o=hotline 1 1 IN IP6 2001:db8::5" in text


def test_builder_default_session_id_is_numeric():
    b = SdpBuilder("1.2.3.4")
    assert b.session_id > 1_600_000_000


def test_offer_round_trip_through_parser():
    text = SdpBuilder("203.0.113.5").offer(30006, ["G722", "PCMU", "PCMA"], te_pt=96)
    o = parse_offer(text)
    assert o.formats == [(9, "G722/8000"), (0, "PCMU/8000"), (8, "PCMA/8000")]
    assert o.telephone_event_pt == 96
    assert (o.address, o.port, o.direction, o.ptime) == ("203.0.113.5", 30006, "sendrecv", 20)
    assert negotiate(o, ["PCMA", "PCMU"]).codec is PCMU
