"""Prompts: audio files converted once to canonical frames, and per-codec payload caches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from media.codecs import encoder_for
from media.frame import FRAME_SAMPLES, SAMPLE_RATE, Pcm


class PromptError(ValueError):
    """A prompt file cannot be used."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"prompt {path}: {reason}")
        self.path = path
        self.reason = reason


def load_pcm(path: Path, max_seconds: float = 600.0) -> Pcm:
    """Read any file soundfile understands, as 16 kHz mono int16."""
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise PromptError(path, f"not a readable audio file ({exc})") from exc
    if data.shape[0] == 0:
        raise PromptError(path, "no audio samples")
    if data.shape[0] / rate > max_seconds:
        raise PromptError(path, f"longer than {max_seconds:.0f} s")
    mono = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")
    return np.clip(np.round(mono * 32767.0), -32768, 32767).astype(np.int16)


def to_frames(pcm: Pcm) -> list[Pcm]:
    """Split into 20 ms frames, zero-padding the last."""
    pad = (-pcm.size) % FRAME_SAMPLES
    if pad:
        pcm = np.concatenate([pcm, np.zeros(pad, dtype=np.int16)])
    return [f.copy() for f in pcm.reshape(-1, FRAME_SAMPLES)]


class Prompt:
    """A prompt loaded once at start-up and reused by every call; encoded once per codec."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = to_frames(load_pcm(path))
        self._encoded: dict[str, list[bytes]] = {}

    def payloads(self, codec: str) -> list[bytes]:
        """RTP payloads of the whole prompt in ``codec`` (computed on first use, then shared)."""
        cached = self._encoded.get(codec)
        if cached is None:
            encoder = encoder_for(codec)
            cached = self._encoded[codec] = [encoder.encode(f) for f in self.frames]
        return cached

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.frames) * FRAME_SAMPLES / SAMPLE_RATE
