"""Cohort files: build from audio, save, load, model check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biometrics.cohort import Cohort, build_cohort, load_cohort
from biometrics.errors import CohortError, ModelMismatchError
from biometrics.pooling import SegmentEncoder
from biometrics.resemblyzer_backend import ResemblyzerEmbedder
from biometrics.voiceprint import ModelTag


def test_build_save_load(tmp_path: Path, embedder: ResemblyzerEmbedder, fsdd_files: dict[str, list[Path]]) -> None:
    speakers = {"lucas": fsdd_files["lucas"][:20], "george": fsdd_files["george"][:20]}
    encoder = SegmentEncoder(embedder)
    cohort = build_cohort(encoder, speakers, entry_speech_s=3.0)
    assert len(cohort) >= 4 and set(cohort.speakers) == {"lucas", "george"}
    assert cohort.model == encoder.model and cohort.model.version.endswith("+seg1")
    np.testing.assert_allclose(np.linalg.norm(cohort.embeddings, axis=1), 1.0, atol=1e-5)
    path = tmp_path / "c" / "cohort.npz"
    cohort.save(path)
    back = load_cohort(path, encoder.model)
    assert back.speakers == cohort.speakers and back.model == cohort.model
    np.testing.assert_allclose(back.embeddings, cohort.embeddings, atol=1e-6)
    with pytest.raises(ModelMismatchError) as exc:
        load_cohort(path, SegmentEncoder(embedder, "concat").model)  # same network, other pooling
    assert exc.value.what == "cohort"


def test_bad_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CohortError) as exc:
        load_cohort(junk)
    assert exc.value.path == junk
    with pytest.raises(CohortError):
        load_cohort(tmp_path / "missing.npz")
    empty = tmp_path / "empty.npz"
    Cohort(np.zeros((0, 4), np.float32), [], ModelTag("m", "1")).save(empty)
    with pytest.raises(CohortError, match="malformed"):
        load_cohort(empty)
