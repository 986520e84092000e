"""Embedder protocol and the resemblyzer backend on real voices."""

from __future__ import annotations

import re

import numpy as np
import pytest

from biometrics.backends import load_embedder
from biometrics.embedder import Embedder, embed_voiceprint, model_tag
from biometrics.errors import BackendUnavailableError, NoSpeechError
from biometrics.resemblyzer_backend import ResemblyzerEmbedder
from biometrics.scoring import cosine
from biometrics.settings import BiometricsSettings
from biometrics.speech import split_speech
from tests.biometrics.conftest import with_gaps


def _speech(pcms: list[np.ndarray]) -> np.ndarray:
    return split_speech(with_gaps(pcms)).speech


def test_identity_and_protocol(embedder: ResemblyzerEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.model_id == "resemblyzer-ge2e"
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}\+pp\d+", embedder.version)
    assert embedder.dim == 256
    assert model_tag(embedder).version == embedder.version


def test_deterministic_unit_norm(embedder: ResemblyzerEmbedder, fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    speech = _speech(fsdd_pcm["george"][:8])
    a, b = embedder.embed(speech), embedder.embed(speech.copy())
    assert a.dtype == np.float32 and a.shape == (256,)
    assert np.array_equal(a, b)
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5


def test_level_does_not_move_the_embedding(embedder: ResemblyzerEmbedder,
                                           fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    speech = _speech(fsdd_pcm["jackson"][:8])
    quieter = (speech.astype(np.float32) * 0.25).astype(np.int16)
    assert cosine(embedder.embed(speech), embedder.embed(quieter)) > 0.995


def test_same_speaker_scores_higher(embedder: ResemblyzerEmbedder, fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    # Text-independent: enrol on digits 0-5, probe on digits 6-9.
    enrol = {s: embed_voiceprint(embedder, _speech(p[:24])) for s, p in fsdd_pcm.items()}
    probe = {s: embed_voiceprint(embedder, _speech(p[24:])) for s, p in fsdd_pcm.items()}
    same = [cosine(enrol[s].vector, probe[s].vector) for s in enrol]
    diff = [cosine(enrol[a].vector, probe[b].vector) for a in enrol for b in probe if a != b]
    assert min(same) > max(diff)
    for s in enrol:  # each speaker's own probe is the closest
        assert max(probe, key=lambda b: cosine(enrol[s].vector, probe[b].vector)) == s


def test_rejects_empty_and_wrong_dtype(embedder: ResemblyzerEmbedder) -> None:
    with pytest.raises(NoSpeechError) as exc:
        embedder.embed(np.zeros(0, dtype=np.int16))
    assert exc.value.samples == 0
    with pytest.raises(TypeError):
        embedder.embed(np.zeros(1600, dtype=np.float32))  # type: ignore[arg-type]


def test_factory_picks_backend() -> None:
    assert isinstance(load_embedder(BiometricsSettings()), ResemblyzerEmbedder)


def test_speechbrain_backend_reports_unavailable() -> None:
    try:
        import speechbrain  # noqa: F401
    except ImportError:
        settings = BiometricsSettings(backend="speechbrain", speechbrain_source="/nonexistent")
        with pytest.raises(BackendUnavailableError) as exc:
            load_embedder(settings)
        assert exc.value.backend == "speechbrain"
        assert "pip install" in exc.value.reason
    else:
        pytest.skip("speechbrain is installed: see test_speechbrain_local.py")


def test_speechbrain_backend_needs_a_source() -> None:
    with pytest.raises(BackendUnavailableError) as exc:
        load_embedder(BiometricsSettings(backend="speechbrain"))
    assert "speechbrain_source" in exc.value.reason
