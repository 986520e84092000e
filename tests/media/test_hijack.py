"""Issue #11 (media): an attacker spraying valid RTP at a call's port neither gets its audio nor enters it.

Real UDP sockets on loopback, a real RtpSession; the "caller" streams continuously at 20 ms, attackers on
other ports (and on 127.0.0.2, which looks like NAT against a loopback SDP address) spray bursts of valid
PCMU packets with random and with copied SSRCs and sequence numbers.
"""

import asyncio
import logging
import random

import numpy as np

from media.codecs import decoder_for
from media.frame import FRAME_SAMPLES, AudioFrame
from media.rtp import RtpPacket
from media.sdp import negotiate, parse_offer
from media.session import RtpSession
from tests.media.helpers import UdpPeer, udp_peer, wait_until

HOST = "127.0.0.1"
CALLER_SSRC = 0x5EC0DE01
TICKS = 100  # 2 s of caller audio
OUR_PACKETS = 90  # what the session plays to the caller meanwhile
BURST = 8


def offer(port: int) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


def pkt(seq: int, payload: bytes, ssrc: int) -> bytes:
    return RtpPacket(0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc, payload).serialize()


async def open_session() -> tuple[RtpSession, list[AudioFrame], asyncio.DatagramTransport, int]:
    frames: list[AudioFrame] = []
    loop = asyncio.get_running_loop()
    transport, session = await loop.create_datagram_endpoint(
        lambda: RtpSession("caller", frames.append, lambda d, t: None, 3), local_addr=(HOST, 0))
    session.port = transport.get_extra_info("sockname")[1]
    return session, frames, transport, session.port


def received_from(peer: UdpPeer, port: int) -> list[RtpPacket]:
    return [RtpPacket.parse(d) for d, addr in peer.received if addr == (HOST, port)]


async def test_sprayed_bursts_neither_hijack_nor_enter_a_streaming_call(caplog):
    caplog.set_level(logging.WARNING, logger="hotline.media")
    rng = random.Random(11)
    session, frames, transport, port = await open_session()
    caller, attacker = await udp_peer(HOST), await udp_peer(HOST)
    nat_attacker = await udp_peer("127.0.0.2")  # another IP: the NAT rule applies to it (SDP 127.0.0.1 is not public)
    peers = (caller, attacker, nat_attacker)
    try:
        session.configure(negotiate(parse_offer(offer(caller.port)), ["PCMU"]))
        target = (HOST, port)
        caller_payloads = [bytes(rng.randrange(256) for _ in range(160)) for _ in range(TICKS)]
        attack_payload = bytes(rng.randrange(256) for _ in range(160))
        sent_by_attackers = 0

        # before the caller's first packet: a fresh call no longer latches to whoever is first
        for _ in range(20):
            attacker.send(pkt(rng.randrange(65536), attack_payload, rng.randrange(2**32)), target)
            sent_by_attackers += 1
        assert await wait_until(lambda: session.stats.packets_in == 20)
        assert session.stats.foreign_packets == 20
        assert session.remote == (HOST, caller.port), "nothing latched: still the SDP address"

        # our audio to the caller, paced on the loop as a prompt is
        play = session.play([bytes([0xFF] * 160)] * OUR_PACKETS)
        seq0 = 40000
        for i in range(TICKS):
            caller.send(pkt(seq0 + i, caller_payloads[i], CALLER_SSRC), target)
            if i % 3 == 1:  # a burst every 60 ms, after the caller's packet of this tick
                kind = (i // 3) % 3
                source = attacker if (i // 9) % 2 == 0 else nat_attacker
                for k in range(BURST):
                    if kind == 0:  # random SSRC, random sequence
                        data = pkt(rng.randrange(65536), attack_payload, rng.randrange(2**32))
                    elif kind == 1:  # the caller's SSRC (copied), random sequence
                        data = pkt(rng.randrange(65536), attack_payload, CALLER_SSRC)
                    else:  # the caller's SSRC and the very next sequence numbers: a perfect forgery, as a burst
                        data = pkt(seq0 + i + 1 + k, attack_payload, CALLER_SSRC)
                    source.send(data, target)
                    sent_by_attackers += 1
            await asyncio.sleep(0.02)
        await play
        assert await wait_until(lambda: session.stats.packets_in == TICKS + sent_by_attackers, timeout=3.0)
        await asyncio.sleep(0.1)
        session.flush()

        stats = session.stats
        # our audio: all of it to the caller, none to the attackers
        assert stats.packets_sent == OUR_PACKETS
        await asyncio.sleep(0.05)
        assert (len(attacker.received), len(nat_attacker.received)) == (0, 0)
        assert await wait_until(lambda: len(caller.received) == OUR_PACKETS)
        assert len(received_from(caller, port)) == OUR_PACKETS
        assert session.remote == (HOST, caller.port)
        # every packet counted: the caller's accepted, every attacker packet dropped as foreign
        assert stats.packets_in == TICKS + sent_by_attackers
        assert stats.foreign_packets == sent_by_attackers == 20 + 33 * BURST
        assert stats.bad_packets == 0 and stats.relatches == 0
        assert session.latch is not None and session.latch.source == (HOST, caller.port)
        # the frames delivered are the caller's, sample for sample (one forged payload would differ by thousands)
        assert session.jitter_lost == 0 and stats.concealed == 0
        ref_dec = decoder_for("PCMU")
        ref = np.concatenate([ref_dec.decode(p) for p in caller_payloads])
        got = np.concatenate([f.samples for f in frames])
        assert len(frames) == stats.frames_out and got.size >= (TICKS - 2) * FRAME_SAMPLES
        assert np.abs(got.astype(np.int32) - ref[: got.size].astype(np.int32)).max() <= 3
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == [], "no re-latch happened"
    finally:
        for p in peers:
            p.close()
        session.close()
        transport.close()


async def test_nat_looking_source_that_beats_the_caller_is_replaced_by_the_sdp_address(caplog):
    """The NAT rule's price: against an SDP address that is not public, the first source wins. But while the
    learning window is open, the caller sending from exactly the SDP address takes the latch back (logged)."""
    caplog.set_level(logging.WARNING, logger="hotline.media")
    session, _, transport, port = await open_session()
    caller, nat_attacker = await udp_peer(HOST), await udp_peer("127.0.0.2")
    try:
        session.configure(negotiate(parse_offer(offer(caller.port)), ["PCMU"]))
        target = (HOST, port)
        for seq in range(5):
            nat_attacker.send(pkt(seq, bytes(160), 0xBAD), target)
        assert await wait_until(lambda: session.stats.packets_in == 5)
        assert session.remote == ("127.0.0.2", nat_attacker.port)
        for seq in range(100, 110):
            caller.send(pkt(seq, bytes([0x55] * 160), CALLER_SSRC), target)
            await asyncio.sleep(0.005)
        for seq in range(5, 10):
            nat_attacker.send(pkt(seq, bytes(160), 0xBAD), target)
        assert await wait_until(lambda: session.stats.packets_in == 20)
        assert session.remote == (HOST, caller.port)
        assert session.stats.relatches == 1 and session.stats.foreign_packets == 5
        [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert f"127.0.0.2:{nat_attacker.port}" in warning and f"{HOST}:{caller.port}" in warning
        session.send_payload(bytes(160))
        assert await wait_until(lambda: len(caller.received) == 1)
    finally:
        caller.close()
        nat_attacker.close()
        session.close()
        transport.close()
