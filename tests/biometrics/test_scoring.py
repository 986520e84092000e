"""Cosine, S-norm / AS-norm arithmetic, model checks, and the leave-two-out trial scorer."""

from __future__ import annotations

import numpy as np
import pytest

from biometrics.cohort import Cohort
from biometrics.errors import CohortError, ModelMismatchError
from biometrics.scoring import Scorer, asnorm, cosine, snorm, top_k
from biometrics.trials import Labeled, TrialSet, score_matrix, split_scores
from biometrics.voiceprint import ModelTag, Voiceprint, l2_normalize

TAG = ModelTag("m", "1")


def _vp(v: list[float], tag: ModelTag = TAG) -> Voiceprint:
    return Voiceprint(l2_normalize(np.array(v)), tag)


def test_cosine() -> None:
    assert cosine([1, 0], [0, 1]) == 0
    assert cosine([1, 1], [2, 2]) == pytest.approx(1)
    assert cosine([1, 0], [-3, 0]) == pytest.approx(-1)
    assert cosine([0, 0], [1, 0]) == 0


def test_snorm_by_hand() -> None:
    e = np.array([0.1, 0.2, 0.3])  # mean 0.2, std sqrt(2/3)*0.1
    p = np.array([0.0, 0.4])  # mean 0.2, std 0.2
    raw = 0.6
    expected = 0.5 * ((0.6 - 0.2) / (np.sqrt(2 / 3) * 0.1) + (0.6 - 0.2) / 0.2)
    assert snorm(raw, e, p) == pytest.approx(expected)


def test_asnorm_uses_top_k() -> None:
    e = np.array([0.9, 0.8, 0.0, -0.5])
    p = np.array([0.7, 0.5, 0.1, 0.0])
    assert sorted(top_k(e, 2)) == [0.8, 0.9]
    assert asnorm(0.95, e, p, 2) == pytest.approx(snorm(0.95, np.array([0.9, 0.8]), np.array([0.7, 0.5])))
    assert asnorm(0.95, e, p, 10) == pytest.approx(snorm(0.95, e, p))


def test_scorer_on_synthetic_vectors() -> None:
    rng = np.random.default_rng(0)
    cohort = Cohort(l2_normalize(rng.normal(size=(20, 8))), [f"s{i % 4}" for i in range(20)], TAG)
    enrolled, probe = _vp(rng.normal(size=8).tolist()), _vp(rng.normal(size=8).tolist())
    raw = cosine(enrolled.vector, probe.vector)
    e = cohort.embeddings.astype(np.float64) @ enrolled.vector
    p = cohort.embeddings.astype(np.float64) @ probe.vector
    assert Scorer(None, "none").score(enrolled, probe) == pytest.approx(raw)
    assert Scorer(cohort, "snorm").score(enrolled, probe) == pytest.approx(snorm(raw, e, p))
    assert Scorer(cohort, "asnorm", 5).score(enrolled, probe) == pytest.approx(asnorm(raw, e, p, 5))


def test_scorer_needs_cohort_for_norm() -> None:
    with pytest.raises(CohortError):
        Scorer(None, "snorm")


def test_model_mismatch_is_an_error_not_a_score() -> None:
    other = ModelTag("m", "2")
    with pytest.raises(ModelMismatchError) as exc:
        Scorer(None, "none").score(_vp([1, 0]), _vp([1, 0], other))
    assert exc.value.enrolled == TAG and exc.value.probe == other and exc.value.what == "probe"
    cohort = Cohort(l2_normalize(np.eye(2)), ["a", "b"], other)
    with pytest.raises(ModelMismatchError) as exc2:
        Scorer(cohort, "snorm").score(_vp([1, 0]), _vp([0, 1]))
    assert exc2.value.what == "cohort"


def test_trial_scorer_leaves_both_speakers_out() -> None:
    rng = np.random.default_rng(3)
    spk = ["a", "b", "c", "d"]
    centers = {s: rng.normal(size=16) * 3 for s in spk}

    def draw(s: str, n: int) -> np.ndarray:
        return l2_normalize(np.stack([centers[s] + rng.normal(size=16) for _ in range(n)]))

    cohort_spk = [s for s in spk for _ in range(5)]
    ts = TrialSet(Labeled(["a", "b"], np.concatenate([draw("a", 1), draw("b", 1)])),
                  Labeled(["a", "c"], np.concatenate([draw("a", 1), draw("c", 1)])),
                  Labeled(cohort_spk, np.concatenate([draw(s, 5) for s in spk])), TAG)
    scores = score_matrix(ts, "snorm", seed=0)
    # Non-target pair (b enrolled, c probe): only a and d may be in its cohort.
    keep = np.array([s in ("a", "d") for s in cohort_spk])
    c = ts.cohort.vectors[keep].astype(np.float64)
    e, p = ts.models.vectors[1].astype(np.float64), ts.probes.vectors[1].astype(np.float64)
    assert scores[1, 1] == pytest.approx(snorm(float(e @ p), c @ e, c @ p))
    # The production Scorer gives the same number with that cohort.
    scorer = Scorer(Cohort(ts.cohort.vectors[keep], [s for s, k in zip(cohort_spk, keep, strict=True) if k],
                           TAG), "snorm")
    assert scores[1, 1] == pytest.approx(scorer.score(Voiceprint(ts.models.vectors[1], TAG),
                                                      Voiceprint(ts.probes.vectors[1], TAG)), abs=1e-5)
    target, nontarget = split_scores(ts, scores)
    assert target.size == 1 and nontarget.size == 3
    assert target[0] > nontarget.max()
    assert np.array_equal(score_matrix(ts, "snorm", seed=0), scores)  # seeded, deterministic
