"""Optional per-leg WAV recording."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from media.frame import SAMPLE_RATE, AudioFrame


class LegRecorder:
    """Writes one leg's canonical frames to a 16 kHz mono WAV."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, "PCM_16")

    def write(self, frame: AudioFrame) -> None:
        """Append a frame."""
        self._file.write(frame.samples)

    def close(self) -> None:
        """Finish the file."""
        self._file.close()
