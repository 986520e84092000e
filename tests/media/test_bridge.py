"""Bridging two RTP legs over loopback: relay with rewritten headers, transcoding, DTMF."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from media.bridge import Bridge, BridgeError, BridgeMode
from media.codecs import encoder_for
from media.dtmf import DtmfPayload
from media.frame import FRAME_SAMPLES
from media.rtp import RtpPacket
from media.sdp import negotiate, parse_offer
from media.session import RtpSession


class Peer(asyncio.DatagramProtocol):
    """A phone's RTP socket: records what it receives."""

    def __init__(self) -> None:
        self.got: list[RtpPacket] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.append(RtpPacket.parse(data))


def sdp(port: int, codec: str) -> str:
    pt = {"PCMU": 0, "PCMA": 8}[codec]
    return (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {codec}/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


async def leg(name: str, codec: str) -> tuple[RtpSession, Peer, int]:
    loop = asyncio.get_running_loop()
    peer_t, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    peer_port = peer_t.get_extra_info("sockname")[1]
    frames: list[object] = []
    t, session = await loop.create_datagram_endpoint(
        lambda: RtpSession(name, frames.append, lambda d, a: None, 1), local_addr=("127.0.0.1", 0))
    session.port = t.get_extra_info("sockname")[1]
    session.configure(negotiate(parse_offer(sdp(peer_port, codec)), ["PCMU", "PCMA"]))
    return session, peer, session.port


def tone(n: int) -> np.ndarray:
    t = np.arange(FRAME_SAMPLES * n) / 16000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


async def send(peer: Peer, port: int, pt: int, payloads: list[bytes], ts0: int = 1000, seq0: int = 10) -> None:
    assert peer.transport is not None
    for i, p in enumerate(payloads):
        pkt = RtpPacket(pt, seq0 + i, ts0 + 160 * i, 0xABCD, p, i == 0)
        peer.transport.sendto(pkt.serialize(), ("127.0.0.1", port))
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_relay_same_codec_rewrites_ssrc_and_sequence() -> None:
    a, pa, port_a = await leg("caller", "PCMU")
    b, pb, _ = await leg("agent", "PCMU")
    bridge = Bridge(a, b)
    assert bridge.mode == BridgeMode.RELAY
    bridge.start()
    payloads = [bytes([i]) * 160 for i in range(10)]
    await send(pa, port_a, 0, payloads)
    assert [p.payload for p in pb.got] == payloads  # relayed untouched, in order
    assert len({p.ssrc for p in pb.got}) == 1 and pb.got[0].ssrc != 0xABCD
    seqs = [p.sequence for p in pb.got]
    assert all((s2 - s1) & 0xFFFF == 1 for s1, s2 in itertools.pairwise(seqs))
    steps = {(p2.timestamp - p1.timestamp) & 0xFFFFFFFF for p1, p2 in itertools.pairwise(pb.got)}
    assert steps == {160}
    bridge.stop()
    await send(pa, port_a, 0, payloads[:2], ts0=99999, seq0=500)
    assert len(pb.got) == 10  # nothing crosses after stop
    for s in (a, b):
        s.close()


@pytest.mark.asyncio
async def test_relay_passes_dtmf_events() -> None:
    a, pa, port_a = await leg("caller", "PCMU")
    b, pb, _ = await leg("agent", "PCMU")
    Bridge(a, b).start()
    events = [DtmfPayload(5, i >= 3, 10, 160 * (i + 1)).serialize() for i in range(5)]
    assert pa.transport is not None
    for i, p in enumerate(events):
        pa.transport.sendto(RtpPacket(101, 40 + i, 5000, 0xABCD, p, i == 0).serialize(), ("127.0.0.1", port_a))
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.1)
    got = [p for p in pb.got if p.payload_type == 101]
    assert [DtmfPayload.parse(p.payload).event for p in got] == [5] * 5
    assert len({p.timestamp for p in got}) == 1  # one event, one timestamp
    for s in (a, b):
        s.close()


@pytest.mark.asyncio
async def test_transcode_pcmu_to_pcma_and_dtmf_regenerated() -> None:
    a, pa, port_a = await leg("caller", "PCMU")
    b, pb, _ = await leg("agent", "PCMA")
    bridge = Bridge(a, b)
    assert bridge.mode == BridgeMode.TRANSCODE
    bridge.start()
    enc = encoder_for("PCMU")
    pcm = tone(10)
    payloads = [enc.encode(pcm[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES]) for i in range(10)]
    await send(pa, port_a, 0, payloads)
    audio = [p for p in pb.got if p.payload_type == 8]
    assert len(audio) >= 8  # the jitter buffer holds back its depth
    b.send_dtmf("7")
    await asyncio.sleep(0.3)
    dtmf = [DtmfPayload.parse(p.payload) for p in pb.got if p.payload_type == 101]
    assert dtmf and all(d.event == 7 for d in dtmf) and dtmf[-1].end
    for s in (a, b):
        s.close()


def test_bridge_needs_negotiated_legs() -> None:
    a = RtpSession("caller", lambda f: None, lambda d, t: None)
    b = RtpSession("agent", lambda f: None, lambda d, t: None)
    with pytest.raises(BridgeError) as err:
        Bridge(a, b)
    assert err.value.leg == "caller"
