"""The canonical audio frame that crosses package boundaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 320

Pcm = npt.NDArray[np.int16]


class FrameError(ValueError):
    """A frame does not have the canonical shape."""

    def __init__(self, leg: str, samples: int) -> None:
        super().__init__(f"frame for leg {leg!r} has {samples} samples, expected {FRAME_SAMPLES}")
        self.leg = leg
        self.samples = samples


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """20 ms of 16 kHz mono int16 audio from one call leg.

    ``timestamp`` is seconds since the start of the leg's media (frame index * 0.02),
    so gaps filled by concealment keep the clock honest.
    """

    leg: str
    timestamp: float
    samples: Pcm

    def __post_init__(self) -> None:
        if self.samples.shape != (FRAME_SAMPLES,) or self.samples.dtype != np.int16:
            raise FrameError(self.leg, int(self.samples.size))

    def pcm_bytes(self) -> bytes:
        """Little-endian 16-bit PCM bytes."""
        return self.samples.tobytes()


def silence() -> Pcm:
    """One frame of digital silence."""
    return np.zeros(FRAME_SAMPLES, dtype=np.int16)
