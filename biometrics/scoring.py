"""Cosine scoring and impostor-cohort score normalisation (S-norm, adaptive S-norm).

With ``e`` the enrolled and ``p`` the probe embedding, ``s = cos(e, p)``, ``E`` the scores of ``e``
against every cohort embedding and ``P`` those of ``p``:

* S-norm:  ``0.5 * ((s - mean(E)) / std(E) + (s - mean(P)) / std(P))``
* AS-norm: the same with ``E`` and ``P`` each reduced to its top-K (largest) scores, i.e. each side
  is normalised against the impostors that resemble it most.

Scores are only comparable within one model: every input carries a :class:`ModelTag` and a
mismatch raises :class:`ModelMismatchError` instead of producing a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from biometrics.errors import CohortError
from biometrics.settings import Norm
from biometrics.voiceprint import ModelTag, Voiceprint, require_same_model

if TYPE_CHECKING:
    from biometrics.cohort import Cohort

Scores = npt.NDArray[np.float64]
STD_FLOOR = 1e-4


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity of two vectors."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(np.dot(x, y) / denom) if denom > 0 else 0.0


def _z(raw: float, cohort_scores: Scores) -> float:
    return (raw - float(np.mean(cohort_scores))) / max(float(np.std(cohort_scores)), STD_FLOOR)


def snorm(raw: float, enrolled_cohort: Scores, probe_cohort: Scores) -> float:
    """Symmetric normalisation of ``raw`` by both sides' cohort score statistics."""
    return 0.5 * (_z(raw, enrolled_cohort) + _z(raw, probe_cohort))


def top_k(scores: Scores, k: int) -> Scores:
    """The ``k`` largest scores (all of them when there are fewer)."""
    if k >= scores.size:
        return scores
    return cast(Scores, np.partition(scores, scores.size - k)[scores.size - k :])


def asnorm(raw: float, enrolled_cohort: Scores, probe_cohort: Scores, k: int) -> float:
    """Adaptive S-norm: S-norm against each side's ``k`` closest cohort entries."""
    return snorm(raw, top_k(enrolled_cohort, k), top_k(probe_cohort, k))


class Scorer:
    """Scores an enrolled voiceprint against a probe, normalised against a fixed impostor cohort."""

    def __init__(self, cohort: Cohort | None, norm: Norm = "asnorm", top_k: int = 50) -> None:
        if norm != "none" and (cohort is None or len(cohort) < 2):
            raise CohortError(None, f"{norm} needs a cohort of at least 2 embeddings")
        self.cohort = cohort
        self.norm: Norm = norm
        self.top_k = top_k

    @property
    def model(self) -> ModelTag | None:
        """The cohort's model (None without a cohort)."""
        return self.cohort.model if self.cohort is not None else None

    def raw(self, enrolled: Voiceprint, probe: Voiceprint) -> float:
        """Plain cosine, after checking both come from the same model."""
        require_same_model(enrolled.model, probe.model, "probe")
        return cosine(enrolled.vector, probe.vector)

    def cohort_scores(self, voiceprint: Voiceprint) -> Scores:
        """Cosine of ``voiceprint`` against every cohort embedding."""
        if self.cohort is None:
            return np.zeros(0)
        require_same_model(voiceprint.model, self.cohort.model, "cohort")
        return cast(Scores, self.cohort.embeddings.astype(np.float64) @ voiceprint.vector.astype(np.float64))

    def score(self, enrolled: Voiceprint, probe: Voiceprint) -> float:
        """The normalised score (raw cosine for norm "none")."""
        raw = self.raw(enrolled, probe)
        if self.norm == "none":
            return raw
        e, p = self.cohort_scores(enrolled), self.cohort_scores(probe)
        return snorm(raw, e, p) if self.norm == "snorm" else asnorm(raw, e, p, self.top_k)
