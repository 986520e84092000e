"""Scoring every probe against every enrolment with a leave-two-out impostor cohort.

The cohort used for a trial never contains the enrolled (claimed) speaker nor the probe's speaker,
as in production where neither the customer nor the caller is in the cohort. For a target trial
(both the same person) one more speaker, drawn with the protocol's seed, is left out, so that every
trial is normalised against the same number of cohort speakers. An optional ``fit`` hook learns an
embedding transform (e.g. centering) on that trial's cohort only (vectors and speaker labels), and
applies it to all three sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from biometrics.errors import CalibrationError
from biometrics.settings import Norm
from biometrics.voiceprint import ModelTag

Matrix = npt.NDArray[np.float64]
Transform = Callable[[Matrix], Matrix]
Fit = Callable[[Matrix, list[str]], Transform]


@dataclass(frozen=True, eq=False)
class Labeled:
    """Embeddings (rows) with the speaker of each row."""

    speakers: list[str]
    vectors: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.speakers)


@dataclass(frozen=True, eq=False)
class TrialSet:
    """Enrolment models, probes and cohort entries of one model."""

    models: Labeled
    probes: Labeled
    cohort: Labeled
    model: ModelTag


def _stats(scores: Matrix, k: int | None) -> tuple[Matrix, Matrix]:
    if k is not None and k < scores.shape[1]:
        scores = -np.partition(-scores, k - 1, axis=1)[:, :k]
    return scores.mean(axis=1), np.maximum(scores.std(axis=1), 1e-4)


def normalise(raw: Matrix, ec: Matrix, pc: Matrix, norm: Norm, top_k: int) -> Matrix:
    """Apply ``norm`` to a models x probes ``raw`` matrix given models x cohort and probes x cohort scores."""
    if norm == "none":
        return raw
    k = top_k if norm == "asnorm" else None
    mu_e, sd_e = _stats(ec, k)
    mu_p, sd_p = _stats(pc, k)
    return 0.5 * ((raw - mu_e[:, None]) / sd_e[:, None] + (raw - mu_p[None, :]) / sd_p[None, :])


def _excluded(ts: TrialSet, seed: int) -> tuple[npt.NDArray[np.int_], npt.NDArray[np.int_], list[str]]:
    names = sorted(set(ts.cohort.speakers) | set(ts.models.speakers) | set(ts.probes.speakers))
    idx = {n: i for i, n in enumerate(names)}
    a = np.array([idx[s] for s in ts.models.speakers])[:, None].repeat(len(ts.probes), axis=1)
    b = np.array([idx[s] for s in ts.probes.speakers])[None, :].repeat(len(ts.models), axis=0)
    cohort_ids = sorted({idx[s] for s in ts.cohort.speakers})
    rng = np.random.default_rng(seed)
    for i, j in zip(*np.nonzero(a == b), strict=True):
        others = [c for c in cohort_ids if c != a[i, j]]
        if not others:
            raise CalibrationError(None, "leave-two-out needs cohort speakers other than the enrolled one")
        b[i, j] = others[int(rng.integers(len(others)))]
    return np.minimum(a, b), np.maximum(a, b), names


def score_matrix(ts: TrialSet, norm: Norm, top_k: int = 50, seed: int = 0, fit: Fit | None = None) -> Matrix:
    """Models x probes scores, each normalised against its own leave-two-out cohort."""
    e, p = ts.models.vectors.astype(np.float64), ts.probes.vectors.astype(np.float64)
    if norm == "none" and fit is None:
        return e @ p.T
    lo, hi, names = _excluded(ts, seed)
    cohort_spk = np.array([names.index(s) for s in ts.cohort.speakers])
    out = np.full((len(ts.models), len(ts.probes)), np.nan)
    for x, y in sorted(set(zip(lo.ravel().tolist(), hi.ravel().tolist(), strict=True))):
        keep = (cohort_spk != x) & (cohort_spk != y)
        if keep.sum() < 2:
            raise CalibrationError(None, f"fewer than 2 cohort entries left without {names[x]} and {names[y]} "
                                   "(give the cohort more audio or shorter entries)")
        c = ts.cohort.vectors[keep].astype(np.float64)
        f = fit(c, [s for s, k in zip(ts.cohort.speakers, keep, strict=True) if k]) if fit is not None else None
        ek, pk, ck = (f(e), f(p), f(c)) if f is not None else (e, p, c)
        scores = normalise(ek @ pk.T, ek @ ck.T, pk @ ck.T, norm, top_k)
        pairs = (lo == x) & (hi == y)
        out[pairs] = scores[pairs]
    return out


def split_scores(ts: TrialSet, scores: Matrix) -> tuple[Matrix, Matrix]:
    """(target, non-target) scores of a models x probes matrix."""
    same = np.array(ts.models.speakers)[:, None] == np.array(ts.probes.speakers)[None, :]
    return scores[same], scores[~same]
