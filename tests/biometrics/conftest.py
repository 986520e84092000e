"""Shared fixtures: the FSDD subset under tests/fixtures/fsdd and one encoder per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biometrics.dataset import FSDD_PATTERN, speaker_files
from biometrics.resemblyzer_backend import ResemblyzerEmbedder
from media.frame import SAMPLE_RATE
from media.prompt import load_pcm

FSDD = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd" / "recordings"


def with_gaps(pcms: list[np.ndarray], gap_s: float = 0.2) -> np.ndarray:
    """Utterances joined by digital silence, like turns in a call."""
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.int16)
    return np.concatenate([part for p in pcms for part in (p, gap)])


@pytest.fixture(scope="session")
def fsdd_files() -> dict[str, list[Path]]:
    """speaker -> 40 fixture files (natural order: digit, then take)."""
    return speaker_files(FSDD, FSDD_PATTERN)


@pytest.fixture(scope="session")
def fsdd_pcm(fsdd_files: dict[str, list[Path]]) -> dict[str, list[np.ndarray]]:
    """speaker -> the 40 recordings as 16 kHz int16."""
    return {spk: [load_pcm(f) for f in files] for spk, files in fsdd_files.items()}


@pytest.fixture(scope="session")
def embedder() -> ResemblyzerEmbedder:
    """The resemblyzer encoder, loaded and warmed up once."""
    enc = ResemblyzerEmbedder()
    enc.embed(np.zeros(SAMPLE_RATE, dtype=np.int16) + 1)
    return enc
