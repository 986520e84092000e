"""Codecs Hotline negotiates: PCMU and PCMA at 8 kHz, G.722 at 16 kHz.

Each codec converts between RTP payloads and canonical 16 kHz int16 audio.
Instances are stateful (G.722 is ADPCM, resamplers keep history): one per leg
and direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import samplerate
from G722 import G722

from media import g711
from media.frame import FRAME_SAMPLES, SAMPLE_RATE, Pcm


@dataclass(frozen=True, slots=True)
class CodecSpec:
    """Static description of a codec as it appears in SDP."""

    name: str
    payload_type: int
    clock_rate: int  # RTP clock (G.722 is 8000 by RFC 3551, although it samples at 16 kHz)
    sample_rate: int

    @property
    def timestamp_step(self) -> int:
        """RTP timestamp increment per 20 ms packet."""
        return self.clock_rate // 50


PCMU = CodecSpec("PCMU", 0, 8000, 8000)
PCMA = CodecSpec("PCMA", 8, 8000, 8000)
G722_SPEC = CodecSpec("G722", 9, 8000, 16000)
CODECS: dict[str, CodecSpec] = {c.name: c for c in (PCMU, PCMA, G722_SPEC)}


class UnsupportedCodecError(ValueError):
    """A codec name Hotline does not implement."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unsupported codec {name!r}; supported: {sorted(CODECS)}")
        self.name = name


class PayloadDecoder(Protocol):
    """Decodes one RTP payload to 16 kHz samples (the very first output may be a little short)."""

    spec: CodecSpec

    def decode(self, payload: bytes) -> Pcm: ...

    def conceal(self) -> Pcm:
        """Audio for one lost packet, placed in stream order (fades the last packet, then silence)."""
        ...


class FrameEncoder(Protocol):
    """Encodes one canonical 20 ms frame to an RTP payload."""

    spec: CodecSpec

    def encode(self, pcm16k: Pcm) -> bytes: ...


class _StreamResampler:
    """libsamplerate's band-limited sinc converter, streaming: steady output per call, float in and out.

    (soxr's streaming API emits in ~100 ms bursts, which would delay frames and
    misplace concealment; its one-shot ``resample`` is used for prompts.)
    """

    def __init__(self, src: int, dst: int) -> None:
        self._ratio = dst / src
        self._conv = samplerate.Resampler("sinc_fastest", channels=1)

    def __call__(self, pcm: Pcm) -> Pcm:
        out = self._conv.process(pcm.astype(np.float32) / 32768.0, self._ratio, end_of_input=False)
        return np.clip(np.round(out * 32768.0), -32768, 32767).astype(np.int16)


class _G711Decoder:
    def __init__(self, spec: CodecSpec) -> None:
        self.spec = spec
        self._decode = g711.ulaw_decode if spec is PCMU else g711.alaw_decode
        self._up = _StreamResampler(8000, SAMPLE_RATE)
        self._last: Pcm | None = None

    def decode(self, payload: bytes) -> Pcm:
        pcm = self._decode(payload)
        self._last = pcm
        return self._up(pcm)

    def conceal(self) -> Pcm:
        fill = (self._last // 2) if self._last is not None else np.zeros(FRAME_SAMPLES // 2, dtype=np.int16)
        self._last = None
        return self._up(fill.astype(np.int16))


class _G711Encoder:
    def __init__(self, spec: CodecSpec) -> None:
        self.spec = spec
        self._encode = g711.ulaw_encode if spec is PCMU else g711.alaw_encode
        self._down = _StreamResampler(SAMPLE_RATE, 8000)
        self._pending = np.zeros(0, dtype=np.int16)
        self._started = False

    def encode(self, pcm16k: Pcm) -> bytes:
        out = np.concatenate([self._pending, self._down(pcm16k)])
        want = FRAME_SAMPLES // 2
        if out.size < want and not self._started:  # the converter's start-up delay: lead with silence once
            out = np.concatenate([np.zeros(want - out.size, dtype=np.int16), out])
        self._started = True
        if out.size < want:  # never expected after start-up; keep the packet size regardless
            out = np.concatenate([out, np.zeros(want - out.size, dtype=np.int16)])
        self._pending = out[want:]
        return self._encode(out[:want])


class _G722Decoder:
    def __init__(self) -> None:
        self.spec = G722_SPEC
        self._codec = G722(16000, 64000)
        self._last: Pcm | None = None

    def decode(self, payload: bytes) -> Pcm:
        pcm = np.frombuffer(self._codec.decode(payload), dtype=np.int16).copy()
        self._last = pcm
        return pcm

    def conceal(self) -> Pcm:
        fill = (self._last // 2).astype(np.int16) if self._last is not None else np.zeros(FRAME_SAMPLES, np.int16)
        self._last = None
        return fill


class _G722Encoder:
    def __init__(self) -> None:
        self.spec = G722_SPEC
        self._codec = G722(16000, 64000)

    def encode(self, pcm16k: Pcm) -> bytes:
        return bytes(self._codec.encode(pcm16k))


def decoder_for(name: str) -> PayloadDecoder:
    """A fresh decoder for the named codec."""
    spec = CODECS.get(name.upper())
    if spec is None:
        raise UnsupportedCodecError(name)
    if spec is G722_SPEC:
        return _G722Decoder()
    return _G711Decoder(spec)


def encoder_for(name: str) -> FrameEncoder:
    """A fresh encoder for the named codec."""
    spec = CODECS.get(name.upper())
    if spec is None:
        raise UnsupportedCodecError(name)
    if spec is G722_SPEC:
        return _G722Encoder()
    return _G711Encoder(spec)
