import pytest

from media.dtmf import EVENTS, DtmfDetector, DtmfParseError, DtmfPayload


def payload(event: int, end: bool, duration: int = 800, volume: int = 10) -> bytes:
    return DtmfPayload(event, end, volume, duration).serialize()


def test_parse_known_bytes():
    ev = DtmfPayload.parse(b"\x05\x8a\x03\x20")
    assert ev == DtmfPayload(event=5, end=True, volume=10, duration=800)
    assert ev.digit == "5"


def test_parse_start_packet():
    ev = DtmfPayload.parse(b"\x0b\x0a\x00\xa0")
    assert (ev.end, ev.volume, ev.duration, ev.digit) == (False, 10, 160, "#")


def test_serialize_known_bytes():
    assert DtmfPayload(10, True, 7, 1600).serialize() == b"\x0a\x87\x06\x40"
    assert DtmfPayload(0, False, 63, 0).serialize() == b"\x00\x3f\x00\x00"


def test_reserved_bit_ignored():
    ev = DtmfPayload.parse(b"\x01\xca\x00\x10")  # E=1, R=1, volume 10
    assert (ev.end, ev.volume) == (True, 10)


def test_extra_event_blocks_ignored():
    ev = DtmfPayload.parse(b"\x02\x80\x01\x00" + b"\x03\x80\x02\x00")
    assert (ev.event, ev.duration) == (2, 256)


@pytest.mark.parametrize("event", range(16))
@pytest.mark.parametrize("end", [False, True])
def test_round_trip_all_digits(event, end):
    ev = DtmfPayload(event, end, 20, 65535)
    assert DtmfPayload.parse(ev.serialize()) == ev
    assert ev.digit == "0123456789*#ABCD"[event]


def test_events_string():
    assert EVENTS == "0123456789*#ABCD"


@pytest.mark.parametrize("event", [16, 100, 255])
def test_non_key_events_have_no_digit(event):
    assert DtmfPayload(event, True, 0, 0).digit is None


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x80\x00"])
def test_short_payload_raises(data):
    with pytest.raises(DtmfParseError) as info:
        DtmfPayload.parse(data)
    assert info.value.payload == data
    assert "4 bytes" in info.value.reason
    assert isinstance(info.value, ValueError)


def test_detector_one_digit_per_press_despite_retransmitted_ends():
    det = DtmfDetector()
    ts = 123456
    results = [det.feed(payload(7, False, d), ts) for d in (160, 320, 480)]
    results += [det.feed(payload(7, True, 640), ts) for _ in range(3)]
    assert results == [None, None, None, ("7", 640), None, None]


def test_detector_non_end_packets_report_nothing():
    det = DtmfDetector()
    assert all(det.feed(payload(e, False), 1000 + e) is None for e in range(16))


def test_detector_distinct_presses_by_timestamp():
    det = DtmfDetector()
    presses = [("1", 1000), ("1", 2000), ("#", 3000), ("A", 4000)]
    got = []
    for digit, ts in presses:
        event = EVENTS.index(digit)
        for _ in range(3):
            hit = det.feed(payload(event, True, 400), ts)
            if hit:
                got.append(hit[0])
    assert got == ["1", "1", "#", "A"]


def test_detector_ignores_non_key_events():
    det = DtmfDetector()
    assert det.feed(payload(16, True), 5) is None  # flash
    # the ignored event does not consume the timestamp
    assert det.feed(payload(3, True), 5) == ("3", 800)


def test_detector_propagates_parse_errors():
    det = DtmfDetector()
    with pytest.raises(DtmfParseError) as info:
        det.feed(b"\x01\x80", 10)
    assert info.value.payload == b"\x01\x80"


def test_detector_memory_is_bounded_but_still_dedups_latest():
    det = DtmfDetector()
    hits = [det.feed(payload(1, True), ts) for ts in range(0, 300 * 160, 160)]
    assert all(h == ("1", 800) for h in hits)
    last = 299 * 160
    assert det.feed(payload(1, True), last) is None
    assert len(det._seen) <= 257
