"""Codecs Hotline negotiates: PCMU and PCMA at 8 kHz, G.722 at 16 kHz.

Each codec converts between RTP payloads and canonical 16 kHz int16 audio.
Instances are stateful (G.722 is ADPCM, resamplers keep history): one per leg
and direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import soxr
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
    """Decodes one RTP payload to 16 kHz samples (variable length while resamplers prime)."""

    spec: CodecSpec

    def decode(self, payload: bytes) -> Pcm: ...


class FrameEncoder(Protocol):
    """Encodes one canonical 20 ms frame to an RTP payload."""

    spec: CodecSpec

    def encode(self, pcm16k: Pcm) -> bytes: ...


class _G711Decoder:
    def __init__(self, spec: CodecSpec) -> None:
        self.spec = spec
        self._decode = g711.ulaw_decode if spec is PCMU else g711.alaw_decode
        self._up = soxr.ResampleStream(8000, SAMPLE_RATE, 1, dtype="int16", quality="HQ")

    def decode(self, payload: bytes) -> Pcm:
        return self._up.resample_chunk(self._decode(payload))


class _G711Encoder:
    def __init__(self, spec: CodecSpec) -> None:
        self.spec = spec
        self._encode = g711.ulaw_encode if spec is PCMU else g711.alaw_encode
        self._down = soxr.ResampleStream(SAMPLE_RATE, 8000, 1, dtype="int16", quality="HQ")
        self._pending = np.zeros(0, dtype=np.int16)

    def encode(self, pcm16k: Pcm) -> bytes:
        out = np.concatenate([self._pending, self._down.resample_chunk(pcm16k)])
        want = FRAME_SAMPLES // 2
        if out.size < want:  # resampler still priming: pad the first packet
            out = np.concatenate([np.zeros(want - out.size, dtype=np.int16), out])
        self._pending = out[want:]
        return self._encode(out[:want])


class _G722Decoder:
    def __init__(self) -> None:
        self.spec = G722_SPEC
        self._codec = G722(16000, 64000)

    def decode(self, payload: bytes) -> Pcm:
        return np.frombuffer(self._codec.decode(payload), dtype=np.int16).copy()


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
