"""Signal-analysis and networking helpers shared by the media tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import numpy as np

from media.frame import FRAME_SAMPLES, SAMPLE_RATE


def sine(freq: float, seconds: float, amplitude: float = 8000.0, rate: int = SAMPLE_RATE) -> np.ndarray:
    """An int16 sine wave."""
    t = np.arange(round(seconds * rate)) / rate
    return np.round(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def frames_of(pcm: np.ndarray) -> list[np.ndarray]:
    """Split into whole 20 ms frames (the tail is dropped)."""
    n = pcm.size // FRAME_SAMPLES
    return [pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].copy() for i in range(n)]


def snr_db(ref: np.ndarray, out: np.ndarray) -> float:
    """Signal-to-noise ratio of ``out`` against ``ref`` (same length)."""
    a = ref.astype(np.float64)
    b = out.astype(np.float64)
    noise = float(np.sum((a - b) ** 2))
    if noise == 0.0:
        return float("inf")
    return 10.0 * float(np.log10(np.sum(a**2) / noise))


def aligned_snr(ref: np.ndarray, out: np.ndarray, start: int, length: int, max_lag: int) -> tuple[int, float]:
    """Find the delay of ``out`` relative to ``ref`` by cross-correlating the window
    ``ref[start:start+length]`` against ``out``; return ``(lag, snr_db)`` at that delay."""
    window = ref[start : start + length].astype(np.float64)
    assert window.size == length, "reference too short for the requested window"
    search = out[start : start + length + max_lag].astype(np.float64)
    assert search.size >= length, f"output too short: {out.size} samples"
    corr = np.correlate(search, window, mode="valid")
    lag = int(np.argmax(corr))
    return lag, snr_db(window, search[lag : lag + length])


def band_energy_fraction(pcm: np.ndarray, low_hz: float, high_hz: float, rate: int = SAMPLE_RATE) -> float:
    """Fraction of the signal's energy between ``low_hz`` and ``high_hz``."""
    x = pcm.astype(np.float64)
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    return float(spec[band].sum() / spec.sum())


async def wait_until(cond: Callable[[], bool], timeout: float = 2.0, interval: float = 0.01) -> bool:
    """Poll ``cond`` until true or the timeout passes; returns the final value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            return cond()
        await asyncio.sleep(interval)
    return True


class UdpPeer(asyncio.DatagramProtocol):
    """A bare UDP endpoint that records what it receives (a stand-in for a phone)."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, tuple[str, int]]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (on Python 3.11 the selector transport does not subclass DatagramTransport)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append((data, addr))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def udp_peer(host: str = "127.0.0.1") -> UdpPeer:
    """Open a UdpPeer on an ephemeral port."""
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_datagram_endpoint(UdpPeer, local_addr=(host, 0))
    return peer


def payloads_for(session, frames):
    """Encode canonical frames with a fresh encoder of the session's negotiated codec."""
    from media.codecs import encoder_for

    enc = encoder_for(session.negotiated.codec.name)
    return [enc.encode(f) for f in frames]
