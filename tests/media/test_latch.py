"""SourceLatch, the pure symmetric-RTP rules: learning against the SDP, the NAT case, strictness, re-latching."""

import logging
import math
import random

import pytest

from media.latch import (
    LatchConfig,
    LatchConfigError,
    Rank,
    SourceLatch,
    Verdict,
    is_unspecified,
    nat_detected,
    parse_ip,
)

A, F, L, R = Verdict.ACCEPT, Verdict.FOREIGN, Verdict.LATCHED, Verdict.RELATCHED

PUBLIC_SDP = ("1.2.3.4", 4000)  # a phone that knows its public address
PRIVATE_SDP = ("192.168.1.20", 4000)  # a phone behind NAT names its LAN address
NAT_SOURCE = ("5.6.7.8", 61000)  # ...and its packets come from the NAT's public side
ATTACKER = ("9.9.9.9", 5004)
SSRC = 0x11223344
STEP = 0.02  # 20 ms packets


class Stream:
    """A caller's packets: one SSRC, sequence numbers and arrival times that advance together."""

    def __init__(self, latch: SourceLatch, source, seq: int = 1000, t: float = 100.0, ssrc: int = SSRC) -> None:
        self.latch, self.source, self.seq, self.t, self.ssrc = latch, source, seq, t, ssrc

    def send(self, n: int = 1) -> list[Verdict]:
        out = []
        for _ in range(n):
            out.append(self.latch.check(self.source, self.ssrc, self.seq, self.t))
            self.seq = (self.seq + 1) & 0xFFFF
            self.t += STEP
        return out


# -- learning -------------------------------------------------------------------


def test_a_fresh_latch_sends_to_the_sdp_address():
    latch = SourceLatch(PUBLIC_SDP)
    assert latch.remote == PUBLIC_SDP and latch.source is None and latch.learning


def test_the_sdp_address_and_port_latch():
    latch = SourceLatch(PUBLIC_SDP)
    assert Stream(latch, PUBLIC_SDP).send(3) == [L, A, A]
    assert latch.source == latch.remote == PUBLIC_SDP
    assert latch.relatches == 0


@pytest.mark.parametrize("source", [("1.2.3.4", 4002), ATTACKER, ("10.0.0.9", 4000), ("127.0.0.1", 4000)])
def test_nothing_else_latches_against_a_public_sdp_address(source):
    """A public SDP address is taken at its word: same IP other port, other IPs (public or private) are refused."""
    latch = SourceLatch(PUBLIC_SDP)
    assert Stream(latch, source).send(20) == [F] * 20
    assert latch.source is None and latch.remote == PUBLIC_SDP
    assert Stream(latch, PUBLIC_SDP, t=200.0).send(2) == [L, A], "the real phone still latches afterwards"


def test_same_ip_other_port_is_refused_even_for_a_private_sdp_address():
    """Same IP means no NAT in between, so the port must match (no asymmetric-port guessing)."""
    latch = SourceLatch(PRIVATE_SDP)
    assert Stream(latch, ("192.168.1.20", 4002)).send(5) == [F] * 5
    assert latch.source is None


def test_nat_private_sdp_latches_the_first_source_only():
    latch = SourceLatch(PRIVATE_SDP)
    phone = Stream(latch, NAT_SOURCE)
    assert phone.send(2) == [L, A]
    assert latch.source == latch.remote == NAT_SOURCE
    other = Stream(latch, ATTACKER, ssrc=0xBAD, t=phone.t)
    assert other.send(10) == [F] * 10, "a second NAT-looking source does not take over"
    assert phone.send(1) == [A]
    assert latch.remote == NAT_SOURCE


def test_nat_acceptance_can_be_turned_off():
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(nat=False))
    assert Stream(latch, NAT_SOURCE).send(5) == [F] * 5
    assert latch.source is None and latch.remote == PRIVATE_SDP


@pytest.mark.parametrize(
    ("sdp", "source", "nat"),
    [
        ("192.168.1.20", "5.6.7.8", True),  # home NAT
        ("10.0.0.7", "172.17.0.1", True),  # private behind private (container bridge, double NAT)
        ("100.64.3.3", "5.6.7.8", True),  # carrier-grade NAT's shared space
        ("fd00::5", "2001:4860::1", True),  # IPv6 ULA
        ("0.0.0.0", "5.6.7.8", True),  # old-style hold: nowhere, so unroutable
        ("phone.example.net", "5.6.7.8", True),  # not an address: cannot be checked, counts as unroutable
        ("1.2.3.4", "5.6.7.8", False),  # public SDP address: a different source is not NAT, it is someone else
        ("2001:4860::1", "2001:4860::2", False),
        ("192.168.1.20", "192.168.1.20", False),  # the same IP: no NAT
        ("192.168.1.20", "::ffff:192.168.1.20", False),  # IPv4-mapped is the same IP
    ],
)
def test_the_nat_rule(sdp, source, nat):
    assert nat_detected(sdp, source) is nat


def test_ipv4_mapped_source_matches_the_sdp_address():
    latch = SourceLatch(PUBLIC_SDP)
    assert latch.check(("::ffff:1.2.3.4", 4000), SSRC, 1, 0.0) is L
    assert parse_ip("::ffff:1.2.3.4") == parse_ip("1.2.3.4")
    assert parse_ip("fe80::1%eth0") == parse_ip("fe80::1") and parse_ip("pbx.example.net") is None


def test_sources_rank_by_their_evidence():
    latch = SourceLatch(PRIVATE_SDP, signalling_host="5.6.7.8")
    assert latch.rank(PRIVATE_SDP) is Rank.SDP
    assert latch.rank(("5.6.7.8", 1234)) is Rank.SIGNALLING
    assert latch.rank(ATTACKER) is Rank.NAT
    assert latch.rank(("192.168.1.20", 4002)) is Rank.NONE
    assert SourceLatch(PUBLIC_SDP, signalling_host="5.6.7.8").rank(("5.6.7.8", 1234)) is Rank.NONE, \
        "a public SDP address is taken at its word, whatever the SIP source"
    assert SourceLatch(PRIVATE_SDP, LatchConfig(nat=False), signalling_host="5.6.7.8").rank(NAT_SOURCE) is Rank.NONE


# -- the learning window --------------------------------------------------------


def test_within_the_window_the_sip_source_ip_takes_a_nat_call_back_from_a_sprayer(caplog):
    """The real NAT case: the caller never sends from its (private) SDP address, but its RTP comes from the IP
    its INVITE came from. A sprayer that got in first loses the call at the caller's first packet."""
    latch = SourceLatch(PRIVATE_SDP, signalling_host="5.6.7.8")
    sprayer = Stream(latch, ATTACKER, ssrc=0xBAD)
    assert sprayer.send(3) == [L, A, A]
    caplog.set_level(logging.WARNING, logger="hotline.media")
    phone = Stream(latch, NAT_SOURCE, t=sprayer.t + 0.2)
    assert phone.send(3) == [R, A, A]
    assert latch.remote == NAT_SOURCE and latch.relatches == 1
    assert sprayer.send(5) == [F] * 5
    [warning] = caplog.records
    assert "9.9.9.9:5004" in warning.getMessage() and "5.6.7.8:61000" in warning.getMessage()
    # nothing ranks above the SDP address, and an equal rank never takes over
    other = Stream(latch, ("5.6.7.8", 62000), ssrc=0xBAD, t=phone.t)
    assert other.send(3) == [F, F, F]


def test_after_the_window_the_sip_source_ip_does_not_take_over():
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(window_s=3.0), signalling_host="5.6.7.8")
    sprayer = Stream(latch, ATTACKER, ssrc=0xBAD)
    sprayer.send(200)  # 4 s
    assert Stream(latch, NAT_SOURCE, t=sprayer.t).send(5) == [F] * 5
    assert latch.remote == ATTACKER


def test_a_continued_stream_keeps_its_rank():
    """The SDP-address stream moves (continuity) to a NAT-looking address: still the caller's stream, so a
    NAT source cannot take it over during the window."""
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(relatch_s=0.0))
    phone = Stream(latch, PRIVATE_SDP)
    phone.send(3)
    phone.source = ("10.9.9.9", 4000)
    assert phone.send(3) == [F, F, R]
    assert Stream(latch, ATTACKER, ssrc=0xBAD, t=phone.t).send(3) == [F, F, F]
    assert latch.remote == ("10.9.9.9", 4000)




def test_within_the_window_a_nat_latch_gives_way_to_the_exact_sdp_address(caplog):
    """A LAN phone with a private SDP address: a stranger got in first on NAT grounds; the phone's own
    packets from exactly the SDP address take the latch back while the window is open."""
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(window_s=3.0))
    stranger = Stream(latch, ("192.168.1.99", 7000), ssrc=0xBAD)
    assert stranger.send(5) == [L, A, A, A, A]
    caplog.set_level(logging.WARNING, logger="hotline.media")
    phone = Stream(latch, PRIVATE_SDP, t=stranger.t + 1.0)
    assert phone.send(3) == [R, A, A]
    assert latch.remote == PRIVATE_SDP and latch.relatches == 1
    assert stranger.send(3) == [F, F, F]
    [warning] = caplog.records
    assert "192.168.1.99:7000" in warning.getMessage() and "192.168.1.20:4000" in warning.getMessage()


def test_after_the_window_the_source_is_strict():
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(window_s=3.0))
    stranger = Stream(latch, ("192.168.1.99", 7000), ssrc=0xBAD)
    assert stranger.send(1) == [L]
    stranger.t += 3.0  # the window closes at the stranger's next packet
    assert stranger.send(1) == [A]
    assert not latch.learning
    phone = Stream(latch, PRIVATE_SDP, t=stranger.t)
    assert phone.send(10) == [F] * 10, "after the window even the SDP address cannot take over without continuity"
    assert latch.remote == ("192.168.1.99", 7000) and latch.relatches == 0


def test_the_window_counts_time_not_packets():
    """A burst cannot close the window early: 500 packets in a millisecond are still inside it."""
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(window_s=3.0))
    for i in range(500):
        latch.check(("192.168.1.99", 7000), 0xBAD, i, 10.0 + i * 1e-6)
    assert latch.learning
    assert latch.check(PRIVATE_SDP, SSRC, 1, 10.5) is R


def test_a_zero_window_is_strict_from_the_first_packet():
    latch = SourceLatch(PRIVATE_SDP, LatchConfig(window_s=0.0))
    assert latch.check(NAT_SOURCE, SSRC, 1, 0.0) is L
    assert latch.check(PRIVATE_SDP, 0xBAD, 1, 0.0) is F
    assert not latch.learning


def test_strict_after_window_drops_every_other_source():
    latch = SourceLatch(PUBLIC_SDP)
    phone = Stream(latch, PUBLIC_SDP)
    phone.send(200)  # 4 s: past the window
    assert not latch.learning
    rng = random.Random(3)
    verdicts = [latch.check((f"9.9.{rng.randrange(256)}.{rng.randrange(256)}", rng.randrange(1024, 65536)),
                            rng.randrange(2**32), rng.randrange(65536), phone.t) for _ in range(1000)]
    assert verdicts == [F] * 1000
    assert latch.remote == PUBLIC_SDP and phone.send(1) == [A]


# -- re-latching: continuity ----------------------------------------------------


def test_a_nat_rebinding_with_continuity_relatches_and_is_logged(caplog):
    latch = SourceLatch(PRIVATE_SDP, label="rtp caller")
    phone = Stream(latch, NAT_SOURCE)
    phone.send(200)
    caplog.set_level(logging.WARNING, logger="hotline.media")
    phone.source = ("5.6.7.8", 61234)  # the NAT gave the phone a new port; its stream goes on
    verdicts = phone.send(10)
    # >= 3 packets and >= 100 ms (20 ms apart: 6 packets span 100 ms) before the take-over
    assert verdicts == [F, F, F, F, F, R, A, A, A, A]
    assert latch.remote == ("5.6.7.8", 61234) and latch.relatches == 1
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert "rtp caller" in warning.getMessage()
    assert "5.6.7.8:61000" in warning.getMessage() and "5.6.7.8:61234" in warning.getMessage()
    # the old address is now the stranger
    assert latch.check(NAT_SOURCE, SSRC, phone.seq, phone.t) is F


def test_a_rebinding_tolerates_a_few_lost_packets():
    latch = SourceLatch(PUBLIC_SDP, LatchConfig(relatch_packets=3, relatch_s=0.0, seq_window=16))
    phone = Stream(latch, PUBLIC_SDP)
    phone.send(10)
    phone.source, phone.seq = ("1.2.3.4", 4444), phone.seq + 15  # 15 packets lost in the move
    assert phone.send(3) == [F, F, R]


def test_a_forged_burst_with_another_ssrc_is_rejected():
    latch = SourceLatch(PUBLIC_SDP)
    phone = Stream(latch, PUBLIC_SDP)
    phone.send(10)
    for ssrc in (0xBAD, random.Random(1).randrange(2**32)):
        forged = Stream(latch, ATTACKER, seq=phone.seq, t=phone.t + 1.0, ssrc=ssrc)  # right seq, paced, silent phone
        assert forged.send(50) == [F] * 50
    assert latch.remote == PUBLIC_SDP and latch.relatches == 0


def test_a_forged_burst_with_the_same_ssrc_but_discontinuous_sequence_is_rejected():
    latch = SourceLatch(PUBLIC_SDP)
    phone = Stream(latch, PUBLIC_SDP)
    phone.send(10)  # last sequence 1009
    rng = random.Random(5)
    t = phone.t + 1.0  # the phone went quiet: only the sequence numbers protect it now
    for seq in [rng.randrange(65536) for _ in range(200)] + [1009 + 17 + i * 17 for i in range(50)]:
        if 1 <= (seq - 1009) % 65536 <= 16:
            continue  # a lucky guess inside the window is the next test's business
        assert latch.check(ATTACKER, SSRC, seq, t) is F
        t += STEP
    # behind the stream (replays of old packets) never continues it either
    for seq in range(990, 1010):
        assert latch.check(ATTACKER, SSRC, seq, t) is F
        t += STEP
    assert latch.remote == PUBLIC_SDP and latch.relatches == 0


def test_a_forged_burst_with_the_same_ssrc_and_the_right_sequence_is_too_fast():
    """Even an attacker who knows SSRC and sequence cannot take over with a burst: it spans no time."""
    latch = SourceLatch(PUBLIC_SDP)
    phone = Stream(latch, PUBLIC_SDP)
    phone.send(10)
    forged = Stream(latch, ATTACKER, seq=phone.seq, t=phone.t)
    for _ in range(100):
        forged.t = phone.t  # 100 packets in the same instant
        assert latch.check(ATTACKER, SSRC, forged.seq, forged.t) is F
        forged.seq += 1
    assert latch.relatches == 0


def test_the_current_source_interrupts_a_run():
    """Paced forged packets with the right SSRC and sequence, while the real phone keeps talking: each of the
    phone's packets breaks the run, so it never reaches 3 packets over 100 ms."""
    latch = SourceLatch(PUBLIC_SDP)
    phone = Stream(latch, PUBLIC_SDP)
    phone.send(10)
    for _ in range(100):
        ahead = phone.seq
        assert latch.check(ATTACKER, SSRC, ahead, phone.t + 0.001) is F
        assert latch.check(ATTACKER, SSRC, ahead + 1, phone.t + 0.002) is F
        assert phone.send(1) == [A]
    assert latch.remote == PUBLIC_SDP and latch.relatches == 0


def test_a_jump_breaks_the_run_a_late_packet_does_not():
    latch = SourceLatch(PUBLIC_SDP, LatchConfig(relatch_packets=4, relatch_s=0.0, seq_window=5))
    phone = Stream(latch, PUBLIC_SDP, seq=100)
    phone.send(1)  # latched stream at 100
    new = ("1.2.3.4", 4444)
    assert [latch.check(new, SSRC, s, 1.0) for s in (101, 102)] == [F, F]
    assert latch.check(new, SSRC, 101, 1.0) is F  # late duplicate: the run stays at 2
    assert [latch.check(new, SSRC, s, 1.0) for s in (103, 104)] == [F, R]
    latch2 = SourceLatch(PUBLIC_SDP, LatchConfig(relatch_packets=3, relatch_s=0.0, seq_window=5))
    Stream(latch2, PUBLIC_SDP, seq=100).send(1)
    assert [latch2.check(new, SSRC, s, 1.0) for s in (101, 102, 120)] == [F, F, F]  # 120: too far, run broken
    assert [latch2.check(new, SSRC, s, 1.0) for s in (121, 122)] == [F, F], "and 121 does not continue 100"
    assert latch2.relatches == 0


def test_an_ssrc_change_from_the_latched_source_is_followed():
    """The phone restarts its stream (new SSRC) from the same address: still its stream, and continuity is
    then judged against the new SSRC."""
    latch = SourceLatch(PUBLIC_SDP, LatchConfig(relatch_s=0.0))
    Stream(latch, PUBLIC_SDP, seq=10, ssrc=1).send(5)
    assert Stream(latch, PUBLIC_SDP, seq=30000, ssrc=2).send(5) == [A] * 5
    assert [latch.check(ATTACKER, 1, s, 0.0) for s in (15, 16, 17)] == [F, F, F]  # the old SSRC is gone
    assert [latch.check(("1.2.3.4", 4444), 2, s, 0.0) for s in (30005, 30006, 30007)] == [F, F, R]


# -- signalling -----------------------------------------------------------------


def test_a_reinvite_to_the_same_address_or_the_hold_address_keeps_the_latch():
    latch = SourceLatch(PRIVATE_SDP)
    Stream(latch, NAT_SOURCE).send(3)
    assert latch.expect(PRIVATE_SDP) is False
    assert latch.expect(("0.0.0.0", 4000)) is False
    assert latch.expect(("::", 0)) is False
    assert latch.remote == NAT_SOURCE


def test_a_reinvite_to_another_address_restarts_learning():
    latch = SourceLatch(PRIVATE_SDP)
    Stream(latch, NAT_SOURCE).send(200)
    assert latch.expect(("1.2.3.4", 5000)) is True
    assert latch.source is None and latch.learning and latch.remote == ("1.2.3.4", 5000)
    assert Stream(latch, NAT_SOURCE, t=50.0).send(2) == [F, F], "a public SDP address: the old source is out"
    assert Stream(latch, ("1.2.3.4", 5000), t=50.0).send(2) == [L, A]


def test_the_hold_address_is_nowhere_to_send():
    latch = SourceLatch(("0.0.0.0", 4000))
    assert latch.remote is None and is_unspecified("0.0.0.0") and is_unspecified("::")
    assert latch.expect(PUBLIC_SDP) is True
    assert latch.remote == PUBLIC_SDP


# -- configuration --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("window_s", -1.0), ("window_s", float("nan")), ("relatch_packets", 0), ("relatch_s", -0.5),
     ("seq_window", 0), ("seq_window", 40000)],
)
def test_bad_config_raises_with_the_field_and_value(field, value):
    with pytest.raises(LatchConfigError) as info:
        LatchConfig(**{field: value})
    assert info.value.name == field
    assert math.isnan(info.value.value) if isinstance(value, float) and math.isnan(value) else info.value.value == value
    assert field in str(info.value) and info.value.reason


def test_media_settings_build_the_latch_config():
    from media.settings import MediaSettings

    cfg = MediaSettings(rtp_latch_nat=False, rtp_latch_window_s=1.5, rtp_relatch_packets=7,
                        rtp_relatch_ms=250).latch_config()
    assert cfg == LatchConfig(window_s=1.5, nat=False, relatch_packets=7, relatch_s=0.25)
    assert MediaSettings().latch_config() == LatchConfig()
    for name in ("rtp_latch_nat", "rtp_latch_window_s", "rtp_relatch_packets", "rtp_relatch_ms"):
        assert MediaSettings.model_fields[name].description
