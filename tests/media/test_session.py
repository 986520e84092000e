import asyncio
import struct

import numpy as np
import pytest

from media import g711
from media.codecs import G722_SPEC, PCMA, PCMU, CodecSpec, decoder_for, encoder_for
from media.dtmf import EVENTS, DtmfPayload
from media.frame import FRAME_SAMPLES, AudioFrame
from media.latch import LatchConfig
from media.ports import PortAllocator
from media.rtp import RtpPacket
from media.sdp import Negotiated
from media.session import RtpSession
from tests.media.helpers import (
    UdpPeer,
    aligned_snr,
    band_energy_fraction,
    frames_of,
    payloads_for,
    sine,
    udp_peer,
    wait_until,
)

HOST = "127.0.0.1"
# The source of datagrams injected without a socket: the SDP address those tests negotiate (neg(..., 9)).
# (It used to be another port: any first source latched then; now only the SDP's address and port do.)
SRC = (HOST, 9)


class Leg:
    """An RtpSession plus what it delivered."""

    def __init__(self, name: str, jitter_depth: int = 3) -> None:
        self.frames: list[AudioFrame] = []
        self.dtmf: list[tuple[str, float]] = []
        self.session = RtpSession(name, self.frames.append, lambda d, t: self.dtmf.append((d, t)), jitter_depth)

    @property
    def port(self) -> int:
        return self.session.port

    def audio(self) -> np.ndarray:
        if not self.frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([f.samples for f in self.frames])


@pytest.fixture
async def net():
    """Factory for bound sessions and raw UDP peers; closes everything afterwards."""
    alloc = PortAllocator(41100, 41199)
    legs: list[Leg] = []
    peers: list[UdpPeer] = []

    class Net:
        async def leg(self, name: str, jitter_depth: int = 3) -> Leg:
            leg = Leg(name, jitter_depth)
            _, _, port = await alloc.bind(HOST, leg.session)
            leg.session.port = port
            legs.append(leg)
            return leg

        async def peer(self) -> UdpPeer:
            p = await udp_peer(HOST)
            peers.append(p)
            return p

    yield Net()
    for leg in legs:
        leg.session.close()
        alloc.release(leg.port)
    for p in peers:
        p.close()
    await asyncio.sleep(0.01)


def neg(
    codec: CodecSpec,
    port: int,
    *,
    pt: int | None = None,
    te: int | None = 101,
    direction: str = "sendrecv",
    host: str = HOST,
) -> Negotiated:
    return Negotiated(codec, codec.payload_type if pt is None else pt, te, (host, port), direction)


def rtp(
    seq: int, payload: bytes, pt: int = 0, ts: int | None = None, ssrc: int = 0x1234, marker: bool = False
) -> bytes:
    timestamp = (seq * 160 if ts is None else ts) & 0xFFFFFFFF
    return RtpPacket(pt, seq & 0xFFFF, timestamp, ssrc, payload, marker).serialize()


async def settle(leg: Leg, timeout: float = 1.0) -> None:
    """Wait until the leg has stopped receiving for 60 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = -1
    while loop.time() < deadline:
        now = leg.session.stats.packets_in
        if now == last:
            return
        last = now
        await asyncio.sleep(0.06)


# -- end to end between two sessions -------------------------------------------


async def test_pcmu_audio_flows_between_two_sessions(net):
    a, b = await net.leg("a"), await net.leg("b")
    a.session.configure(neg(PCMU, b.port))
    b.session.configure(neg(PCMU, a.port))
    tone = sine(1000, 0.5)
    await a.session.play(payloads_for(a.session, frames_of(tone)))
    await settle(b)

    assert a.session.stats.packets_sent == 25
    assert b.session.stats.packets_in == 25
    assert b.session.stats.bad_packets == 0 and b.session.stats.foreign_packets == 0
    assert b.session.stats.frames_out == len(b.frames) >= 15
    assert [f.timestamp for f in b.frames] == [round(i * 0.02, 2) for i in range(len(b.frames))]
    assert all(f.leg == "b" and f.samples.shape == (FRAME_SAMPLES,) for f in b.frames)
    assert a.frames == []
    received = b.audio()
    loud = received[np.abs(received.astype(np.int32)) > 0]
    assert loud.size > 8 * FRAME_SAMPLES
    assert np.abs(received.astype(np.int32)).max() == pytest.approx(8000, rel=0.1)
    assert band_energy_fraction(received, 900, 1100) > 0.9
    assert b.session.remote == (HOST, a.port)


async def test_g722_audio_flows_and_correlates(net):
    a, b = await net.leg("a"), await net.leg("b")
    a.session.configure(neg(G722_SPEC, b.port))
    b.session.configure(neg(G722_SPEC, a.port))
    tone = sine(1000, 0.5)
    await a.session.play(payloads_for(a.session, frames_of(tone)))
    await settle(b)
    assert len(b.frames) == 25
    lag, snr = aligned_snr(tone, b.audio(), start=640, length=6400, max_lag=400)
    assert snr > 15.0, f"lag {lag} snr {snr:.1f}"


async def test_bidirectional(net):
    a, b = await net.leg("a"), await net.leg("b")
    a.session.configure(neg(G722_SPEC, b.port))
    b.session.configure(neg(G722_SPEC, a.port))
    await asyncio.gather(
        a.session.play(payloads_for(a.session, frames_of(sine(500, 0.2)))),
        b.session.play(payloads_for(b.session, frames_of(sine(1500, 0.2)))),
    )
    await settle(a)
    await settle(b)
    assert len(a.frames) == len(b.frames) == 10
    assert band_energy_fraction(a.audio(), 1400, 1600) > 0.9
    assert band_energy_fraction(b.audio(), 400, 600) > 0.9


# -- receive path --------------------------------------------------------------


@pytest.mark.parametrize("codec", [PCMU, G722_SPEC], ids=["PCMU", "G722"])
async def test_out_of_order_packets_come_out_in_order(net, codec):
    b = await net.leg("b")
    phone = await net.peer()
    b.session.configure(neg(codec, phone.port))
    rng = np.random.default_rng(7)
    payloads = [bytes(rng.integers(0, 256, 160, dtype=np.uint8)) for _ in range(30)]
    order = [0, 1, 3, 2, 4, 6, 5, 7, 10, 8, 9, *range(11, 30)]
    for seq in order:
        phone.send(rtp(1000 + seq, payloads[seq], pt=codec.payload_type), (HOST, b.port))
    await settle(b)
    assert b.session.stats.packets_in == 30
    ref_dec = decoder_for(codec.name)
    ref = np.concatenate([ref_dec.decode(p) for p in payloads])
    got = b.audio()
    assert got.size >= 20 * FRAME_SAMPLES
    # identical up to the resampler's +-1 LSB int16 dither; a misordered packet would differ by thousands
    diff = np.abs(got.astype(np.int32) - ref[: got.size].astype(np.int32))
    assert diff.max() <= 3
    assert b.session.stats.concealed == 0


async def test_garbage_and_rtcp_counted_as_bad_audio_still_flows(net):
    b = await net.leg("b")
    phone = await net.peer()
    b.session.configure(neg(PCMU, phone.port))
    addr = (HOST, b.port)
    rtcp_sr = struct.pack("!BBH", 0x80, 200, 6) + bytes(24)
    rtcp_rr = struct.pack("!BBH", 0x81, 201, 7) + bytes(28)
    garbage = [b"hello", bytes(20), b"\x40" + bytes(30), rtcp_sr, rtcp_rr, b"\xa0" + bytes(11)]
    for g in garbage:
        phone.send(g, addr)
    tone = g711.ulaw_encode(sine(1000, 0.02, rate=8000))
    for seq in range(20):
        phone.send(rtp(seq, tone), addr)
    await settle(b)
    stats = b.session.stats
    assert stats.packets_in == len(garbage) + 20
    assert stats.bad_packets == len(garbage)
    assert stats.foreign_packets == 0
    assert stats.frames_out >= 10
    assert band_energy_fraction(b.audio(), 900, 1100) > 0.9


async def test_empty_datagram_is_bad():
    leg = Leg("x")
    leg.session.configure(neg(PCMU, 9))
    leg.session.datagram_received(b"", SRC)
    assert leg.session.stats.bad_packets == 1
    assert leg.session.remote == (HOST, 9)


async def test_foreign_payload_type_ignored(net):
    b = await net.leg("b")
    phone = await net.peer()
    b.session.configure(neg(PCMU, 50000))
    phone.send(rtp(1, bytes(160), pt=8), (HOST, b.port))
    phone.send(rtp(2, bytes(160), pt=96), (HOST, b.port))
    await wait_until(lambda: b.session.stats.packets_in == 2)
    assert b.session.stats.foreign_packets == 2
    assert b.session.remote == (HOST, 50000), "foreign packets must not move the latch"
    assert b.frames == []


async def test_packets_before_configure_are_foreign():
    leg = Leg("x")
    leg.session.datagram_received(rtp(1, bytes(160)), SRC)
    assert leg.session.stats.foreign_packets == 1
    assert leg.session.negotiated is None
    assert leg.session.remote is None
    leg.session.send_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16))  # no transport, no negotiation: no-op
    assert leg.session.stats.packets_sent == 0


async def test_dtmf_reported_once_per_press(net):
    b = await net.leg("b")
    phone = await net.peer()
    b.session.configure(neg(PCMU, phone.port, te=101))
    addr = (HOST, b.port)
    seq = 500
    for digit, ts in (("5", 16000), ("#", 32000)):
        ev = EVENTS.index(digit)
        events = [DtmfPayload(ev, False, 10, d) for d in (160, 320, 480)] + [DtmfPayload(ev, True, 10, 640)] * 3
        for i, e in enumerate(events):
            phone.send(rtp(seq, e.serialize(), pt=101, ts=ts, marker=i == 0), addr)
            seq += 1
    await wait_until(lambda: b.session.stats.packets_in == 12)
    await asyncio.sleep(0.02)
    assert [d for d, _ in b.dtmf] == ["5", "#"]
    assert all(isinstance(t, float) and t >= 0 for _, t in b.dtmf)
    assert b.frames == [], "telephone-event packets are not audio"


async def test_dtmf_time_follows_audio_clock():
    leg = Leg("x", jitter_depth=3)
    leg.session.configure(neg(G722_SPEC, 9))
    enc = encoder_for("G722")
    for seq, f in enumerate(frames_of(sine(800, 0.2))):
        leg.session.datagram_received(rtp(seq, enc.encode(f), pt=9), SRC)
    leg.session.datagram_received(rtp(10, DtmfPayload(1, True, 10, 800).serialize(), pt=101, ts=5000), SRC)
    assert leg.dtmf == [("1", pytest.approx(0.2))]


async def test_malformed_dtmf_payload_counted_bad():
    leg = Leg("x")
    leg.session.configure(neg(PCMU, 9, te=101))
    leg.session.datagram_received(rtp(1, b"\x01\x80", pt=101), SRC)
    assert leg.session.stats.bad_packets == 1
    assert leg.dtmf == []


async def test_dtmf_ignored_when_not_negotiated():
    leg = Leg("x")
    leg.session.configure(neg(PCMU, 9, te=None))
    leg.session.datagram_received(rtp(1, DtmfPayload(1, True, 10, 800).serialize(), pt=101), SRC)
    assert leg.session.stats.foreign_packets == 1
    assert leg.dtmf == []


async def test_lost_packet_concealed_with_faded_copy_then_silence():
    leg = Leg("x", jitter_depth=2)
    leg.session.configure(neg(G722_SPEC, 9))
    enc = encoder_for("G722")
    payloads = [enc.encode(f) for f in frames_of(sine(1000, 0.24))]  # 12 packets
    lost = {4, 7, 8}
    for seq, p in enumerate(payloads):
        if seq not in lost:
            leg.session.datagram_received(rtp(seq, p, pt=9), SRC)
    leg.session.flush()
    ref_dec = decoder_for("G722")
    ref = {seq: ref_dec.decode(p) for seq, p in enumerate(payloads) if seq not in lost}
    expected = []
    for seq in range(12):
        if seq in ref:
            expected.append(ref[seq])
        elif seq - 1 in ref:
            expected.append((ref[seq - 1].astype(np.int32) // 2).astype(np.int16))
        else:
            expected.append(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    assert len(leg.frames) == 12
    for seq, (got, want) in enumerate(zip(leg.frames, expected, strict=True)):
        assert np.array_equal(got.samples, want), f"frame {seq}"
        assert got.timestamp == pytest.approx(seq * 0.02)
    assert leg.session.stats.concealed == 3


async def test_flush_releases_held_packets():
    leg = Leg("x", jitter_depth=3)
    leg.session.configure(neg(G722_SPEC, 9))
    enc = encoder_for("G722")
    payloads = [enc.encode(f) for f in frames_of(sine(1000, 0.1))]
    for seq in (0, 2, 3):
        leg.session.datagram_received(rtp(seq, payloads[seq], pt=9), SRC)
    assert len(leg.frames) == 1
    leg.session.flush()
    assert len(leg.frames) == 4
    assert leg.session.stats.concealed == 1


async def test_pcmu_concealment_is_placed_at_the_loss():
    leg = Leg("x", jitter_depth=3)
    leg.session.configure(neg(PCMU, 9))
    before = g711.ulaw_encode(np.full(160, 4000, dtype=np.int16))
    after = g711.ulaw_encode(np.full(160, -4000, dtype=np.int16))
    for seq in range(40):
        if seq != 20:
            leg.session.datagram_received(rtp(seq, before if seq < 20 else after), SRC)
    assert leg.session.stats.concealed == 1
    levels = [int(np.median(f.samples)) for f in leg.frames]
    filler = next(i for i, lv in enumerate(levels) if 1000 < lv < 3000)
    assert all(lv < 0 for lv in levels[filler + 1 :]), f"pre-loss audio after the filler: {levels}"


async def test_g722_concealment_is_placed_at_the_loss():
    """Control for the PCMU case above: without a resampler the filler lands exactly at the loss."""
    leg = Leg("x", jitter_depth=3)
    leg.session.configure(neg(G722_SPEC, 9))
    enc = encoder_for("G722")
    payloads = [enc.encode(np.full(FRAME_SAMPLES, 3000 if seq < 20 else -3000, np.int16)) for seq in range(40)]
    for seq, p in enumerate(payloads):
        if seq != 20:
            leg.session.datagram_received(rtp(seq, p, pt=9), SRC)
    assert leg.session.stats.concealed == 1
    levels = [int(np.median(f.samples)) for f in leg.frames]
    assert len(levels) == 40
    assert all(lv > 2500 for lv in levels[2:20])
    assert levels[20] == pytest.approx(levels[19] // 2, abs=2)
    assert all(lv < -2500 for lv in levels[21:])


async def test_ssrc_change_mid_call_keeps_audio_flowing():
    leg = Leg("x")
    leg.session.configure(neg(G722_SPEC, 9))
    enc = encoder_for("G722")
    frames = frames_of(sine(1000, 0.2))
    for seq, f in enumerate(frames[:5]):
        leg.session.datagram_received(rtp(seq, enc.encode(f), pt=9, ssrc=1), SRC)
    for seq, f in enumerate(frames[5:]):
        leg.session.datagram_received(rtp(30000 + seq, enc.encode(f), pt=9, ssrc=2), SRC)
    assert len(leg.frames) == 10
    assert leg.session.stats.concealed == 0


# -- send path -----------------------------------------------------------------


async def test_send_frame_packet_format(net):
    a = await net.leg("a")
    phone = await net.peer()
    a.session.configure(neg(PCMU, phone.port, pt=97))
    frames = frames_of(sine(1000, 0.06))
    for f in frames:
        a.session.send_frame(f)
    assert await wait_until(lambda: len(phone.received) == 3)
    pkts = [RtpPacket.parse(d) for d, _ in phone.received]
    assert all(addr == (HOST, a.port) for _, addr in phone.received)
    assert [p.payload_type for p in pkts] == [97, 97, 97]
    assert [p.marker for p in pkts] == [True, False, False]
    assert [(p.sequence - pkts[0].sequence) & 0xFFFF for p in pkts] == [0, 1, 2]
    assert [(p.timestamp - pkts[0].timestamp) & 0xFFFFFFFF for p in pkts] == [0, 160, 320]
    assert len({p.ssrc for p in pkts}) == 1 and pkts[0].ssrc != 0
    ref = encoder_for("PCMU")
    assert [p.payload for p in pkts] == [ref.encode(f) for f in frames]
    assert a.session.stats.packets_sent == 3


async def test_reconfigure_switches_codec(net):
    a = await net.leg("a")
    phone = await net.peer()
    a.session.configure(neg(PCMU, phone.port))
    a.session.configure(neg(PCMA, phone.port))
    assert a.session.negotiated.codec is PCMA
    f = sine(1000, 0.02)
    a.session.send_frame(f)
    assert await wait_until(lambda: len(phone.received) == 1)
    pkt = RtpPacket.parse(phone.received[0][0])
    assert pkt.payload_type == 8
    assert pkt.payload == encoder_for("PCMA").encode(f)


async def test_play_is_paced_and_replaceable(net):
    a = await net.leg("a")
    phone = await net.peer()
    a.session.configure(neg(G722_SPEC, phone.port))
    silent = [np.zeros(FRAME_SAMPLES, dtype=np.int16)] * 8
    loop = asyncio.get_running_loop()
    start = loop.time()
    await a.session.play(payloads_for(a.session, silent))
    elapsed = loop.time() - start
    assert a.session.stats.packets_sent == 8
    assert 0.13 <= elapsed < 2.0, "8 frames are paced over ~140 ms"
    assert await wait_until(lambda: len(phone.received) == 8)

    long_task = a.session.play(payloads_for(a.session, [np.zeros(FRAME_SAMPLES, dtype=np.int16)] * 500))
    await asyncio.sleep(0.05)
    short_task = a.session.play(payloads_for(a.session, silent[:2]))
    await short_task
    await asyncio.sleep(0)
    assert long_task.cancelled()
    sent = a.session.stats.packets_sent
    await asyncio.sleep(0.1)
    assert a.session.stats.packets_sent == sent, "the replaced prompt keeps no task sending"
    assert 8 + 2 < sent < 8 + 2 + 400


async def test_stop_playback(net):
    a = await net.leg("a")
    phone = await net.peer()
    a.session.configure(neg(G722_SPEC, phone.port))
    task = a.session.play(payloads_for(a.session, [np.zeros(FRAME_SAMPLES, dtype=np.int16)] * 500))
    await asyncio.sleep(0.03)
    a.session.stop_playback()
    await asyncio.sleep(0)
    assert task.cancelled()
    sent = a.session.stats.packets_sent
    assert 1 <= sent < 500
    await asyncio.sleep(0.1)
    assert a.session.stats.packets_sent == sent
    a.session.stop_playback()  # nothing playing: harmless


async def test_packets_from_another_port_of_the_sdp_ip_never_latch(net):
    """Same IP as the SDP, other port: no NAT in between, so not the negotiated stream (it used to latch)."""
    a = await net.leg("a")
    decoy, phone = await net.peer(), await net.peer()
    a.session.configure(neg(PCMU, decoy.port))  # SDP said "decoy", the packets come from "phone"
    rx_before = a.session.last_rx
    for seq in range(1, 11):
        phone.send(rtp(seq, bytes(160)), (HOST, a.port))
    assert await wait_until(lambda: a.session.stats.packets_in == 10)
    assert a.session.stats.foreign_packets == 10
    assert a.frames == [] and a.session.stats.frames_out == 0
    assert a.session.last_rx == rx_before, "refused packets do not keep the call alive"
    assert a.session.remote == (HOST, decoy.port)
    a.session.send_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    assert await wait_until(lambda: len(decoy.received) == 1)
    await asyncio.sleep(0.02)
    assert phone.received == []


async def test_symmetric_rtp_behind_nat_latches_to_the_real_source(net):
    """The SDP names a private address (the phone's LAN side); media really comes from 127.0.0.2: NAT."""
    a = await net.leg("a")
    phone = await udp_peer("127.0.0.2")
    try:
        a.session.configure(neg(PCMU, 4000, host="10.0.0.7"))
        assert a.session.remote == ("10.0.0.7", 4000)
        phone.send(rtp(1, bytes(160)), (HOST, a.port))
        assert await wait_until(lambda: a.session.stats.packets_in == 1)
        assert a.session.remote == ("127.0.0.2", phone.port)
        assert a.session.stats.foreign_packets == 0
        a.session.send_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16))
        assert await wait_until(lambda: len(phone.received) == 1)
        # a re-INVITE naming the same address (a refresh, hold/resume) keeps the latch
        a.session.configure(neg(PCMU, 4000, host="10.0.0.7"))
        assert a.session.remote == ("127.0.0.2", phone.port)
        # one naming another address moves the media there: learning starts again
        a.session.configure(neg(PCMU, 50002))
        assert a.session.remote == (HOST, 50002)
    finally:
        phone.close()


async def test_a_forged_packet_neither_redirects_nor_enters_the_stream(net):
    a = await net.leg("a")
    phone, attacker = await net.peer(), await net.peer()
    a.session.configure(neg(PCMU, phone.port))
    phone.send(rtp(1, bytes(160)), (HOST, a.port))
    assert await wait_until(lambda: a.session.latch is not None and a.session.latch.source == (HOST, phone.port))
    for seq in (2, 3):
        attacker.send(rtp(seq, bytes(160), ssrc=0xBAD), (HOST, a.port))
    assert await wait_until(lambda: a.session.stats.foreign_packets == 2)
    assert a.session.remote == (HOST, phone.port)
    # the phone's SSRC and the next sequence numbers, but as a burst: it takes no time, so no take-over
    # (this run of 5 used to move the latch)
    for seq in range(2, 2 + 5):
        attacker.send(rtp(seq, bytes(160)), (HOST, a.port))
    assert await wait_until(lambda: a.session.stats.foreign_packets == 7)
    await asyncio.sleep(0.02)
    assert a.session.remote == (HOST, phone.port)
    assert a.session.stats.relatches == 0
    assert a.frames == [] and a.session.stats.packets_in == 8


async def test_nat_rebinding_moves_the_latch_and_is_logged(net, caplog):
    """The phone's NAT binding moves mid-call: the same stream, continued at 20 ms pace from a new port."""
    a = await net.leg("a")
    phone, moved = await net.peer(), await net.peer()
    a.session.configure(neg(PCMU, phone.port))
    tone = g711.ulaw_encode(sine(1000, 0.02, rate=8000))
    for seq in range(10):
        phone.send(rtp(seq, tone), (HOST, a.port))
    assert await wait_until(lambda: a.session.stats.packets_in == 10)
    caplog.set_level("WARNING", logger="hotline.media")
    for seq in range(10, 30):
        moved.send(rtp(seq, tone), (HOST, a.port))
        await asyncio.sleep(0.02)
    assert await wait_until(lambda: a.session.stats.packets_in == 30)
    assert a.session.remote == (HOST, moved.port)
    assert a.session.stats.relatches == 1
    # the run must span >= 100 ms: packets 10..14 (80 ms at 20 ms pace) are dropped, the 6th takes over
    # (or the 7th, when five 20 ms sleeps come out a hair under 100 ms); everything after is the stream
    assert a.session.stats.foreign_packets in (5, 6), a.session.stats.foreign_packets
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert f"{HOST}:{phone.port}" in warnings[0] and f"{HOST}:{moved.port}" in warnings[0]
    a.session.send_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    assert await wait_until(lambda: len(moved.received) == 1)
    assert phone.received == []


async def test_latch_settings_reach_the_session(net):
    a = Leg("a")
    a.session = RtpSession("a", a.frames.append, lambda d, t: None, latch=LatchConfig(nat=False))
    a.session.configure(neg(PCMU, 4000, host="10.0.0.7"))
    a.session.datagram_received(rtp(1, bytes(160)), ("127.0.0.2", 5000))
    assert a.session.stats.foreign_packets == 1
    assert a.session.remote == ("10.0.0.7", 4000)
    b = Leg("b")  # the default accepts the NAT case
    b.session.configure(neg(PCMU, 4000, host="10.0.0.7"))
    b.session.datagram_received(rtp(1, bytes(160)), ("127.0.0.2", 5000))
    assert b.session.stats.foreign_packets == 0
    assert b.session.remote == ("127.0.0.2", 5000)


@pytest.mark.parametrize(
    "negotiated",
    [neg(PCMU, 0, direction="sendonly"), neg(PCMU, 0, direction="inactive"), neg(PCMU, 0, host="0.0.0.0")],
    ids=["sendonly", "inactive", "zero-address"],
)
async def test_hold_stops_sending(net, negotiated):
    a = await net.leg("a")
    phone = await net.peer()
    held = Negotiated(
        negotiated.codec, negotiated.payload_type, 101, (negotiated.remote[0], phone.port), negotiated.direction
    )
    a.session.configure(held)
    assert a.session.hold
    await a.session.play(payloads_for(a.session, [np.zeros(FRAME_SAMPLES, dtype=np.int16)] * 5))
    await asyncio.sleep(0.03)
    assert a.session.stats.packets_sent == 0
    assert phone.received == []
    # resume
    a.session.configure(neg(PCMU, phone.port))
    assert not a.session.hold
    a.session.send_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    assert await wait_until(lambda: len(phone.received) == 1)


async def test_on_hold_session_still_receives(net):
    a = await net.leg("a")
    phone = await net.peer()
    a.session.configure(neg(G722_SPEC, phone.port, direction="sendonly"))
    enc = encoder_for("G722")
    for seq, f in enumerate(frames_of(sine(1000, 0.1))):
        phone.send(rtp(seq, enc.encode(f), pt=9), (HOST, a.port))
    assert await wait_until(lambda: len(a.frames) == 5)


async def test_close(net):
    a = await net.leg("a")
    phone = await net.peer()
    a.session.configure(neg(PCMU, phone.port))
    task = a.session.play(payloads_for(a.session, [np.zeros(FRAME_SAMPLES, dtype=np.int16)] * 100))
    await asyncio.sleep(0.03)
    a.session.close()
    await asyncio.sleep(0)
    assert task.cancelled()
    sent = a.session.stats.packets_sent
    a.session.send_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    assert a.session.stats.packets_sent == sent
    a.session.close()  # idempotent


async def test_last_rx_updates_on_valid_packets_only():
    leg = Leg("x")
    leg.session.configure(neg(PCMU, 9))
    leg.session.last_rx = 0.0
    leg.session.datagram_received(b"junk", SRC)
    assert leg.session.last_rx == 0.0
    leg.session.datagram_received(rtp(1, bytes(160)), SRC)
    assert leg.session.last_rx > 0.0
