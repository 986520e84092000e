"""G.711 mu-law and A-law, table driven (pure numpy, no audioop), bit-exact with the reference coder."""

from __future__ import annotations

import numpy as np

from media.frame import Pcm


def _ulaw_decode_table() -> Pcm:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> Pcm:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_ALL = np.arange(-32768, 32768, dtype=np.int32)


def _segment(values: np.ndarray, ends: list[int]) -> np.ndarray:
    return np.searchsorted(np.array(ends), values, side="left")


def _ulaw_encode_table() -> np.ndarray:
    """The classic segment encoder (ITU-T G.711 / Sun reference) for every 16-bit value."""
    pcm = _ALL >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), 8159) + (0x84 >> 2)
    seg = _segment(mag, [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> np.minimum(seg + 1, 15)) & 0xF))
    return (code ^ mask).astype(np.uint8)


def _alaw_encode_table() -> np.ndarray:
    """The classic A-law segment encoder for every 16-bit value."""
    pcm = _ALL >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = _segment(mag, [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    low = np.where(seg < 2, (mag >> 1) & 0xF, (mag >> np.minimum(seg, 15)) & 0xF)
    code = np.where(seg >= 8, 0x7F, (seg << 4) | low)
    return (code ^ mask).astype(np.uint8)


ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()
ULAW_ENCODE = _ulaw_encode_table()
ALAW_ENCODE = _alaw_encode_table()


def ulaw_decode(data: bytes) -> Pcm:
    """mu-law bytes to int16 samples."""
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(pcm: Pcm) -> bytes:
    """int16 samples to mu-law bytes."""
    return bytes(ULAW_ENCODE[pcm.astype(np.int32) + 32768])


def alaw_decode(data: bytes) -> Pcm:
    """A-law bytes to int16 samples."""
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def alaw_encode(pcm: Pcm) -> bytes:
    """int16 samples to A-law bytes."""
    return bytes(ALAW_ENCODE[pcm.astype(np.int32) + 32768])
