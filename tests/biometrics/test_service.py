"""The engine facade: enrolment with gates, verification decisions, passive verification."""

from __future__ import annotations

import numpy as np
import pytest

from biometrics.calibration import Calibration
from biometrics.cohort import build_cohort
from biometrics.errors import CalibrationError, ModelMismatchError, QualityError
from biometrics.passive import PassiveVerifier
from biometrics.pooling import SegmentEncoder
from biometrics.quality import SHORT
from biometrics.resemblyzer_backend import ResemblyzerEmbedder
from biometrics.scoring import Scorer
from biometrics.service import VoiceprintEngine
from biometrics.settings import BiometricsSettings
from biometrics.voiceprint import ModelTag, Voiceprint
from media.frame import FRAME_SAMPLES, AudioFrame
from tests.biometrics.conftest import with_gaps

# S-norm against a cohort of the third fixture speaker (jackson) puts george-vs-george around 8-10 and
# george-vs-lucas around -8; the threshold is synthetic, not measured.
THRESHOLD = 3.0


@pytest.fixture(scope="module")
def engine(embedder: ResemblyzerEmbedder, fsdd_files: dict[str, list]) -> VoiceprintEngine:
    encoder = SegmentEncoder(embedder, "segments")
    tag = encoder.model
    cohort = build_cohort(encoder, {"jackson": fsdd_files["jackson"]}, 3.0)
    cal = Calibration(tag.model_id, tag.version, "snorm", THRESHOLD, 0.01, 0.0, 0.0, 0.0)
    settings = BiometricsSettings(verify_min_speech_s=3.0, update_every_s=1.5, verify_max_speech_s=6.0,
                                  pooling="segments")
    return VoiceprintEngine(settings, embedder, Scorer(cohort, "snorm"), cal)


@pytest.fixture(scope="module")
def george(engine: VoiceprintEngine, fsdd_pcm: dict[str, list[np.ndarray]]) -> Voiceprint:
    pcm = fsdd_pcm["george"]
    result = engine.enroll_from_pcm([with_gaps(pcm[:12]), with_gaps(pcm[12:24])])  # two recordings
    assert result.net_speech_s >= 8 and result.quality.ok
    return result.embedding


def test_enrolment(george: Voiceprint, engine: VoiceprintEngine) -> None:
    assert george.model == engine.model and george.dim == 256


def test_enrolment_rejected_with_report(engine: VoiceprintEngine, fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    with pytest.raises(QualityError) as exc:
        engine.enroll_from_pcm([with_gaps(fsdd_pcm["george"][:6])])
    assert exc.value.report.codes() == [SHORT] and not exc.value.report.ok


def test_verify(engine: VoiceprintEngine, george: Voiceprint, fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    same = engine.verify(george, with_gaps(fsdd_pcm["george"][24:]))
    other = engine.verify(george, with_gaps(fsdd_pcm["lucas"][24:]))
    assert same.decision == "verified" and same.score is not None and same.score > THRESHOLD + 0.5
    assert other.decision == "not_verified" and other.score is not None and other.score < THRESHOLD - 0.5
    assert same.model_id == "resemblyzer-ge2e" and same.threshold == THRESHOLD and same.net_speech_s >= 3
    short = engine.verify(george, with_gaps(fsdd_pcm["george"][24:27]))
    assert short.decision == "inconclusive" and short.reasons and short.reasons[0].startswith(SHORT)
    capped = engine.verify(george, with_gaps(fsdd_pcm["george"][24:] * 2))  # ~16 s of speech, cap 6 s
    assert 6.0 <= capped.net_speech_s < 6.1 and capped.decision == "verified"
    silent = engine.verify(george, np.zeros(16000, np.int16))
    assert silent.score is None and silent.decision == "inconclusive"


def test_noisy_probe_is_inconclusive(engine: VoiceprintEngine, george: Voiceprint,
                                     fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    clean = with_gaps(fsdd_pcm["george"][24:])
    noisy = np.clip(clean + np.random.default_rng(2).normal(0, 1500, clean.size), -32768, 32767).astype(np.int16)
    result = engine.verify(george, noisy)
    assert result.decision == "inconclusive" and any(r.startswith("too_noisy") for r in result.reasons)


def test_model_checks(engine: VoiceprintEngine, george: Voiceprint) -> None:
    alien = Voiceprint(george.vector, ModelTag("resemblyzer-ge2e", "older"))
    with pytest.raises(ModelMismatchError):
        engine.verify(alien, np.zeros(16000, np.int16))
    cal = engine.calibration
    with pytest.raises(ModelMismatchError):
        VoiceprintEngine(engine.settings, engine.embedder, engine.scorer,
                         Calibration("x", "1", "snorm", 1.0, 0.01, 0, 0, 0))
    with pytest.raises(CalibrationError):
        VoiceprintEngine(engine.settings, engine.embedder, engine.scorer,
                         Calibration(cal.model_id, cal.version, "asnorm", 1.0, 0.01, 0, 0, 0))


def _frames(pcm: np.ndarray) -> list[AudioFrame]:
    pcm = np.concatenate([pcm, np.zeros(-pcm.size % FRAME_SAMPLES, np.int16)])
    return [AudioFrame("caller", i * 0.02, f.copy()) for i, f in enumerate(pcm.reshape(-1, FRAME_SAMPLES))]


def test_passive_verifier(engine: VoiceprintEngine, george: Voiceprint,
                          fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    verifier = PassiveVerifier(engine, george)
    assert isinstance(verifier, PassiveVerifier)
    audio = with_gaps(fsdd_pcm["george"][24:] + fsdd_pcm["george"][:12], gap_s=0.3)  # ~12 s of speech
    checks = []
    for frame in _frames(audio):
        check = verifier.push(frame)
        if check is not None:
            checks.append((check, verifier.compute(check)))
    # Scoring points 3.0, 4.5, 6.0 s (the cap), then nothing more.
    assert [c.index for c, _ in checks] == [1, 2, 3]
    nets = [c.net_speech_s for c, _ in checks]
    assert nets[0] >= 3.0 and nets[0] < 3.1 and nets[1] >= 4.5 and nets[2] >= 6.0 and nets[2] < 6.1
    assert [c.final for c, _ in checks] == [False, False, True]
    assert verifier.done and verifier.flush() is None
    assert verifier.push(_frames(audio)[0]) is None
    assert all(v.decision == "verified" for _, v in checks)


def test_passive_flush_and_impostor(engine: VoiceprintEngine, george: Voiceprint,
                                    fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    verifier = PassiveVerifier(engine, george)
    results = [v for f in _frames(with_gaps(fsdd_pcm["lucas"][:8])) if (v := verifier.push_and_compute(f))]
    assert results and all(r.decision == "not_verified" for r in results)
    assert not verifier.done  # below the cap: the call ended first
    check = verifier.flush(timestamp=9.0)
    assert check is not None and check.final and check.net_speech_s > results[-1].net_speech_s
    assert verifier.done and verifier.flush() is None


def test_shipped_configuration_loads(fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    # configs/voiceprint/{calibration.json,cohort.npz} must match the installed model (rebuild them with
    # `python -m benchmarks.voiceprint --ship` if not): raw cosine of whole-speech embeddings, calibrated on
    # speakers-dev through G.711, with a margin in cosine units.
    engine = VoiceprintEngine.from_settings(BiometricsSettings())
    cal = engine.calibration
    assert cal.norm == "none" and engine.scorer.cohort is None and engine.model == cal.model
    assert cal.protocol["channel"] == "PCMU" and cal.protocol["split"] == "cohort" and cal.far <= 0.01
    assert 0.5 < cal.threshold < 1.0 and 0 < cal.inconclusive_margin < 0.2
    lucas = fsdd_pcm["lucas"]
    enrolled = engine.enroll_from_pcm([with_gaps(lucas[:30])]).embedding
    same = engine.verify(enrolled, with_gaps(lucas[30:]))
    other = engine.verify(enrolled, with_gaps(fsdd_pcm["george"][30:]))
    assert same.score is not None and other.score is not None and same.score > other.score
    assert same.threshold == cal.threshold
