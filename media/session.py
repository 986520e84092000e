"""A per-leg RTP session on asyncio: receive, reorder, decode, frame; send paced audio."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from media.codecs import FrameEncoder, PayloadDecoder, decoder_for, encoder_for
from media.dtmf import EVENTS, DtmfDetector, DtmfParseError, DtmfPayload
from media.frame import FRAME_SAMPLES, AudioFrame, Pcm
from media.jitter import JitterBuffer
from media.latch import LatchConfig, SourceLatch, Verdict
from media.rtp import RtpPacket, RtpParseError
from media.sdp import Negotiated

log = logging.getLogger("hotline.media")

FrameSink = Callable[[AudioFrame], None]
DtmfSink = Callable[[str, float], None]


@dataclass(slots=True)
class SessionStats:
    """Counters of one RTP session."""

    packets_in: int = 0
    bad_packets: int = 0
    foreign_packets: int = 0  # wrong payload type, before negotiation, or not from the latched source
    relatches: int = 0  # times the latched source moved (see media.latch)
    frames_out: int = 0
    concealed: int = 0
    packets_sent: int = 0


class RtpSession(asyncio.DatagramProtocol):
    """One call leg's media. Frames and DTMF are delivered through sync callbacks.

    Where its audio goes and whose packets it takes is decided by a :class:`media.latch.SourceLatch`
    (created at the first :meth:`configure`, with ``latch``'s settings; ``signalling_host`` is the IP the
    call's SIP came from, which ranks a NAT'd source higher).
    """

    def __init__(
        self,
        leg: str,
        on_frame: FrameSink,
        on_dtmf: DtmfSink,
        jitter_depth: int = 3,
        *,
        latch: LatchConfig | None = None,
        signalling_host: str | None = None,
    ) -> None:
        self.leg = leg
        self.stats = SessionStats()
        self._on_frame = on_frame
        self._on_dtmf = on_dtmf
        self._jitter = JitterBuffer(depth=jitter_depth)
        self._dtmf = DtmfDetector()
        self._transport: asyncio.DatagramTransport | None = None
        self._neg: Negotiated | None = None
        self._decoder: PayloadDecoder | None = None
        self._encoder: FrameEncoder | None = None
        self._latch_config = latch if latch is not None else LatchConfig()
        self._signalling_host = signalling_host
        self._latch: SourceLatch | None = None
        self._pending = np.zeros(0, dtype=np.int16)
        self._frame_index = 0
        self._seq = random.randint(0, 0xFFFF)
        self._ts = random.randint(0, 0x7FFFFFFF)
        self._ssrc = random.randint(1, 0xFFFFFFFF)
        self._play_task: asyncio.Task[None] | None = None
        self.hold = False
        self.decode_audio = True  # off when nothing consumes the caller's audio (saves the decode per packet)
        self.last_rx = 0.0
        self.port = 0
        # bridging taps (set by media.bridge.Bridge): raw packets for relay, decoded PCM and DTMF for transcoding
        self.packet_tap: Callable[[RtpPacket, bool], None] | None = None
        self.frame_tap: Callable[[Pcm], None] | None = None
        self.dtmf_tap: Callable[[str], None] | None = None
        self._relay_offset: int | None = None
        self._dtmf_task: asyncio.Task[None] | None = None

    # -- asyncio protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)
        self.last_rx = asyncio.get_running_loop().time()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.stats.packets_in += 1
        try:
            pkt = RtpPacket.parse(data)
        except RtpParseError:
            self.stats.bad_packets += 1
            return
        neg, latch = self._neg, self._latch
        if neg is None or latch is None:
            self.stats.foreign_packets += 1
            return
        if pkt.payload_type not in (neg.payload_type, neg.telephone_event_pt):
            self.stats.foreign_packets += 1
            return
        now = asyncio.get_running_loop().time()
        verdict = latch.check(addr, pkt.ssrc, pkt.sequence, now)
        if verdict is Verdict.FOREIGN:
            self.stats.foreign_packets += 1
            return
        if verdict is Verdict.RELATCHED:
            self.stats.relatches += 1
        self.last_rx = now
        if self.packet_tap is not None:
            self.packet_tap(pkt, pkt.payload_type == neg.telephone_event_pt)
        for ready in self._jitter.push(pkt):
            self._release(ready)

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp %s socket error: %s", self.leg, exc)

    # -- control ----------------------------------------------------------
    def configure(self, neg: Negotiated) -> None:
        """Apply (re)negotiated media; codec changes reset codec state.

        The first call starts learning the caller's source against ``neg.remote``; a later one that names
        another address (not the hold address) starts learning again against it (see ``SourceLatch.expect``).
        """
        if self._neg is None or self._neg.codec != neg.codec:
            self._decoder = decoder_for(neg.codec.name)
            self._encoder = encoder_for(neg.codec.name)
        self._neg = neg
        self.hold = neg.direction in ("sendonly", "inactive") or neg.remote[0] in ("0.0.0.0", "::")
        if self._latch is None:
            self._latch = SourceLatch(neg.remote, self._latch_config, f"rtp {self.leg}", self._signalling_host)
        else:
            self._latch.expect(neg.remote)

    @property
    def negotiated(self) -> Negotiated | None:
        """Current negotiated media."""
        return self._neg

    @property
    def remote(self) -> tuple[str, int] | None:
        """Where outgoing RTP goes: the latched source, else the SDP address (None before negotiation)."""
        return None if self._latch is None else self._latch.remote

    @property
    def latch(self) -> SourceLatch | None:
        """The source latch (None before the first :meth:`configure`)."""
        return self._latch

    @property
    def jitter_lost(self) -> int:
        """Packets declared lost by the jitter buffer (whether or not audio was decoded)."""
        return self._jitter.stats.lost

    @property
    def jitter_late(self) -> int:
        """Packets dropped by the jitter buffer as late."""
        return self._jitter.stats.late

    def send_frame(self, pcm: Pcm) -> None:
        """Encode and send one 20 ms frame now (no-op while on hold or before negotiation)."""
        if self._encoder is not None:
            self.send_payload(self._encoder.encode(pcm))

    def send_payload(self, payload: bytes) -> None:
        """Send one already-encoded 20 ms payload of the negotiated codec."""
        remote = self.remote
        if self._neg is None or remote is None or self._transport is None or self.hold:
            return
        marker = self.stats.packets_sent == 0
        pkt = RtpPacket(self._neg.payload_type, self._seq, self._ts, self._ssrc, payload, marker)
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + self._neg.codec.timestamp_step) & 0xFFFFFFFF
        self._transport.sendto(pkt.serialize(), remote)
        self.stats.packets_sent += 1

    def forward(self, pkt: RtpPacket, is_event: bool) -> None:
        """Relay a packet of the peer leg (same codec): our SSRC, sequence and a continuous timestamp."""
        neg, remote = self._neg, self.remote
        if neg is None or remote is None or self._transport is None or self.hold:
            return
        pt = neg.telephone_event_pt if is_event else neg.payload_type
        if pt is None:
            return  # this leg did not negotiate telephone-event; its DTMF is still detected on the way in
        if self._relay_offset is None:
            self.stop_playback()
            self._relay_offset = (self._ts - pkt.timestamp) & 0xFFFFFFFF
        ts = (pkt.timestamp + self._relay_offset) & 0xFFFFFFFF
        out = RtpPacket(pt, self._seq, ts, self._ssrc, pkt.payload, pkt.marker)
        self._seq = (self._seq + 1) & 0xFFFF
        if not is_event:
            self._ts = (ts + neg.codec.timestamp_step) & 0xFFFFFFFF
        self._transport.sendto(out.serialize(), remote)
        self.stats.packets_sent += 1

    def end_relay(self) -> None:
        """Stop mapping relayed timestamps (the next relay starts a new mapping)."""
        self._relay_offset = None

    def send_dtmf(self, digit: str) -> None:
        """Send one RFC 4733 key press (~100 ms, three end packets), paced on the loop."""
        neg = self._neg
        if neg is None or neg.telephone_event_pt is None or digit not in EVENTS:
            return
        if self._dtmf_task is not None and not self._dtmf_task.done():
            return  # one key at a time, as a phone does
        self._dtmf_task = asyncio.get_running_loop().create_task(self._send_dtmf(EVENTS.index(digit)))

    async def _send_dtmf(self, event: int) -> None:
        neg = self._neg
        if neg is None or neg.telephone_event_pt is None or self._transport is None or self.remote is None:
            return
        step = neg.codec.timestamp_step
        ts, n = self._ts, 5
        for i in range(n + 3):
            end = i >= n
            payload = DtmfPayload(event, end, 10, step * min(i + 1, n)).serialize()
            pkt = RtpPacket(neg.telephone_event_pt, self._seq, ts, self._ssrc, payload, i == 0)
            self._seq = (self._seq + 1) & 0xFFFF
            remote = self.remote
            if self._transport is None or remote is None:
                return
            self._transport.sendto(pkt.serialize(), remote)
            if i < n:
                await asyncio.sleep(0.02)
        self._ts = (ts + step * n) & 0xFFFFFFFF

    def play(self, payloads: Sequence[bytes]) -> asyncio.Task[None]:
        """Send pre-encoded payloads paced at 20 ms (replaces whatever is playing)."""
        self.stop_playback()
        self._play_task = asyncio.get_running_loop().create_task(self._pace(payloads))
        return self._play_task

    def stop_playback(self) -> None:
        """Stop the current prompt."""
        if self._play_task is not None and not self._play_task.done():
            self._play_task.cancel()
        self._play_task = None

    async def _pace(self, payloads: Sequence[bytes]) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, payload in enumerate(payloads):
            delay = start + i * 0.02 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send_payload(payload)

    def flush(self) -> None:
        """Release everything the jitter buffer holds (end of call)."""
        for ready in self._jitter.flush():
            self._release(ready)

    def close(self) -> None:
        """Stop playback and close the socket."""
        self.stop_playback()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # -- receive path -----------------------------------------------------
    def _release(self, pkt: RtpPacket | None) -> None:
        neg = self._neg
        assert neg is not None
        if pkt is not None and pkt.payload_type == neg.telephone_event_pt:
            try:
                hit = self._dtmf.feed(pkt.payload, pkt.timestamp)
            except DtmfParseError:
                self.stats.bad_packets += 1
                return
            if hit is not None:
                self._on_dtmf(hit[0], self._frame_index * 0.02)
                if self.dtmf_tap is not None:
                    self.dtmf_tap(hit[0])
            return
        if not self.decode_audio:
            return
        if pkt is None:
            self._conceal()
            return
        assert self._decoder is not None
        try:
            pcm = self._decoder.decode(pkt.payload)
        except Exception:  # a codec library rejecting garbage must not end the call
            self.stats.bad_packets += 1
            self._conceal()
            return
        self._emit(pcm)

    def _conceal(self) -> None:
        self.stats.concealed += 1
        if self._decoder is not None:
            self._emit(self._decoder.conceal())

    def _emit(self, pcm: Pcm) -> None:
        buf = np.concatenate([self._pending, pcm]) if self._pending.size else pcm
        n = buf.size // FRAME_SAMPLES
        for i in range(n):
            samples = buf[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].copy()
            if self.frame_tap is not None:
                self.frame_tap(samples)
            frame = AudioFrame(self.leg, round(self._frame_index * 0.02, 2), samples)
            self._frame_index += 1
            self.stats.frames_out += 1
            self._on_frame(frame)
        self._pending = buf[n * FRAME_SAMPLES :]
