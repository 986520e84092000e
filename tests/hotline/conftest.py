"""Fixtures shared by the softphone CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.model_archive import _clean_env, cache_dir, fake_model_archive, serve, server  # noqa: F401  (fixtures: hotline models)


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    """A 1 s, 22.05 kHz stereo tone: the phone has to downmix and resample it."""
    rate = 22050
    t = np.arange(rate) / rate
    mono = 0.4 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "tone.wav"
    sf.write(path, np.stack([mono, mono], axis=1), rate, subtype="PCM_16")
    return path
