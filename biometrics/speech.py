"""Speech-only extraction with webrtcvad at 16 kHz (30 ms frames): embeddings see speech, not silence.

A 30 ms frame is *voiced* when webrtcvad says so and its level is at least ``min_frame_dbfs``
(webrtcvad keeps saying "speech" for a few frames after speech ends, even over digital silence;
the level floor stops that hangover from counting as speech). The kept audio is every voiced frame plus up to
``padding_ms`` of unvoiced audio either side of each voiced run (so word edges are not clipped).
``net_speech_s`` counts voiced frames only (frames x 30 ms); padding is not speech. Kept audio that
is contiguous in the input forms one *segment* (roughly an utterance: segments are split by pauses
longer than twice the padding); embeddings are pooled over segments (``pooling.py``). The
mean-square energy of every voiced and unvoiced frame is recorded for the SNR estimate in ``quality.py``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import webrtcvad

from media.frame import SAMPLE_RATE, Pcm
from media.prompt import load_pcm

VAD_FRAME_MS = 30
VAD_FRAME_SAMPLES = SAMPLE_RATE * VAD_FRAME_MS // 1000  # 480
Energies = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SpeechSplit:
    """Speech kept from some audio as segments, how much is voiced, per-frame energies (int16 units squared)."""

    segments: tuple[Pcm, ...]
    net_speech_s: float
    voiced_energy: Energies = field(default_factory=lambda: np.zeros(0))
    unvoiced_energy: Energies = field(default_factory=lambda: np.zeros(0))

    @cached_property
    def speech(self) -> Pcm:
        """All kept speech, segments concatenated."""
        return np.concatenate(self.segments) if self.segments else np.zeros(0, dtype=np.int16)

    @property
    def total_s(self) -> float:
        """Duration of all the analysed audio (voiced + unvoiced frames)."""
        return (self.voiced_energy.size + self.unvoiced_energy.size) * VAD_FRAME_MS / 1000


class SpeechTracker:
    """Streaming VAD split: push PCM of any length, take :meth:`snapshot` whenever needed."""

    def __init__(self, aggressiveness: int = 2, padding_ms: int = 90, min_frame_dbfs: float = -60.0) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self._floor = (32768.0 * 10 ** (min_frame_dbfs / 20)) ** 2
        self._pad = max(0, padding_ms // VAD_FRAME_MS)
        self._pre: deque[Pcm] = deque(maxlen=max(1, self._pad))
        self._trailing = 0
        self._rest = np.zeros(0, dtype=np.int16)
        self._frames = 0
        self._last_kept = -2
        self._kept: list[list[Pcm]] = []
        self._voiced: list[float] = []
        self._unvoiced: list[float] = []

    @property
    def net_speech_s(self) -> float:
        """Voiced audio seen so far, in seconds."""
        return len(self._voiced) * VAD_FRAME_MS / 1000

    def push(self, pcm: Pcm) -> None:
        """Feed 16 kHz int16 samples; whole 30 ms frames are classified, the remainder waits."""
        data = np.concatenate([self._rest, pcm]) if self._rest.size else pcm
        whole = data.size - data.size % VAD_FRAME_SAMPLES
        for start in range(0, whole, VAD_FRAME_SAMPLES):
            self._frame(data[start : start + VAD_FRAME_SAMPLES].copy())
        self._rest = data[whole:].copy()

    def _keep(self, frames: list[Pcm], first: int) -> None:
        if not frames:
            return
        if first != self._last_kept + 1 or not self._kept:
            self._kept.append([])
        self._kept[-1].extend(frames)
        self._last_kept = first + len(frames) - 1

    def _frame(self, frame: Pcm) -> None:
        index = self._frames
        self._frames += 1
        energy = float(np.mean(np.square(frame, dtype=np.float64)))
        if energy >= self._floor and self._vad.is_speech(frame.tobytes(), SAMPLE_RATE):
            self._voiced.append(energy)
            self._keep(list(self._pre), index - len(self._pre))
            self._pre.clear()
            self._keep([frame], index)
            self._trailing = self._pad
            return
        self._unvoiced.append(energy)
        if self._trailing > 0:
            self._keep([frame], index)
            self._trailing -= 1
        elif self._pad:
            self._pre.append(frame)

    def snapshot(self) -> SpeechSplit:
        """Speech kept so far (a copy: the tracker can go on receiving audio)."""
        segments = tuple(np.concatenate(frames) for frames in self._kept)
        return SpeechSplit(segments, self.net_speech_s, np.array(self._voiced), np.array(self._unvoiced))


def split_speech(pcm16k: Pcm, aggressiveness: int = 2, padding_ms: int = 90) -> SpeechSplit:
    """Speech of a whole recording (16 kHz mono int16)."""
    tracker = SpeechTracker(aggressiveness, padding_ms)
    tracker.push(pcm16k)
    return tracker.snapshot()


def merge_splits(splits: Sequence[SpeechSplit]) -> SpeechSplit:
    """Several recordings' speech as one (segments listed in order, energies pooled)."""
    if not splits:
        return SpeechSplit((), 0.0)
    return SpeechSplit(
        tuple(seg for s in splits for seg in s.segments),
        sum(s.net_speech_s for s in splits),
        np.concatenate([s.voiced_energy for s in splits]),
        np.concatenate([s.unvoiced_energy for s in splits]),
    )


def load_speech(path: Path, aggressiveness: int = 2, padding_ms: int = 90) -> SpeechSplit:
    """Read any audio file (resampled to 16 kHz mono) and keep its speech."""
    return split_speech(load_pcm(path), aggressiveness, padding_ms)


def group_segments(segments: Sequence[Pcm], seconds: float, min_fraction: float = 0.5) -> list[list[Pcm]]:
    """Pack consecutive segments into groups holding at least ``seconds`` of audio each.

    Segments longer than ``seconds`` are first cut into pieces of ``seconds``. A last, smaller group is
    kept when it holds at least ``min_fraction`` of ``seconds``.
    """
    size = max(1, round(seconds * SAMPLE_RATE))
    pieces = [seg[i : i + size] for seg in segments for i in range(0, seg.size, size)]
    groups: list[list[Pcm]] = []
    current: list[Pcm] = []
    filled = 0
    for piece in pieces:
        current.append(piece)
        filled += piece.size
        if filled >= size:
            groups.append(current)
            current, filled = [], 0
    if current and filled >= min_fraction * size:
        groups.append(current)
    return groups


def speech_clips(segments: Sequence[Pcm], seconds: float) -> list[list[Pcm]]:
    """Consecutive, non-overlapping clips of exactly ``seconds`` of speech each (pieces of ``segments``);
    the remainder shorter than ``seconds`` is dropped."""
    size = max(1, round(seconds * SAMPLE_RATE))
    clips: list[list[Pcm]] = []
    current: list[Pcm] = []
    filled = 0
    for seg in segments:
        start = 0
        while start < seg.size:
            take = min(seg.size - start, size - filled)
            current.append(seg[start : start + take])
            filled += take
            start += take
            if filled == size:
                clips.append(current)
                current, filled = [], 0
    return clips
