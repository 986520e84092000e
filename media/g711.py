"""G.711 mu-law and A-law, table driven (pure numpy, no audioop)."""

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


def _encode_table(decode: Pcm) -> np.ndarray:
    """For every 16-bit value, the code whose decoded value is nearest (ties to the larger code)."""
    values = decode.astype(np.int32)
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    grid = np.arange(-32768, 32768, dtype=np.int32)
    idx = np.searchsorted(sorted_vals, grid)
    idx = np.clip(idx, 1, len(sorted_vals) - 1)
    left = sorted_vals[idx - 1]
    right = sorted_vals[idx]
    pick = np.where(grid - left <= right - grid, idx - 1, idx)
    return order[pick].astype(np.uint8)


ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()
ULAW_ENCODE = _encode_table(ULAW_DECODE)
ALAW_ENCODE = _encode_table(ALAW_DECODE)


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
