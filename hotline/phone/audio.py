"""Prepare the softphone's ``--play`` file: any soundfile-readable audio to 16-bit mono PCM WAV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr


class AudioFileError(Exception):
    """The input audio file cannot be read or converted; the message is one line, fit for users."""


@dataclass(frozen=True)
class PreparedAudio:
    """A 16-bit mono PCM WAV ready for ``pj.AudioMediaPlayer``."""

    path: Path
    sample_rate: int
    duration_s: float


def _one_line(exc: BaseException) -> str:
    """Return an exception's message squeezed to one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def read_mono(source: Path) -> tuple[np.ndarray, int]:
    """Read ``source`` as float32 mono samples and its sample rate, or raise `AudioFileError`."""
    if not source.is_file():
        why = "it is a directory" if source.is_dir() else "no such file"
        raise AudioFileError(f"cannot read audio file {source}: {why}")
    try:
        data, rate = sf.read(str(source), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError) as exc:
        raise AudioFileError(f"cannot read audio file {source}: {_one_line(exc)}") from exc
    if data.shape[0] == 0:
        raise AudioFileError(f"cannot read audio file {source}: it contains no audio frames")
    return data.mean(axis=1, dtype=np.float32), int(rate)


def prepare_audio(source: Path, sample_rate: int, dest: Path) -> PreparedAudio:
    """Convert ``source`` to a 16-bit mono PCM WAV at ``sample_rate`` written to ``dest``.

    Raises `AudioFileError` when the input is not audio soundfile can read, or ``dest`` cannot be written.
    """
    mono, rate = read_mono(source)
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    mono = np.clip(mono, -1.0, 1.0)
    try:
        sf.write(str(dest), mono, sample_rate, subtype="PCM_16", format="WAV")
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(f"cannot write converted audio {dest}: {_one_line(exc)}") from exc
    return PreparedAudio(path=dest, sample_rate=sample_rate, duration_s=len(mono) / sample_rate)
