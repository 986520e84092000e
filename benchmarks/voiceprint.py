"""Voiceprint benchmark on FSDD: EER and FRR at FAR=1% for raw cosine, S-norm and AS-norm in one run.

Protocol (fixed seed; ``python -m benchmarks.voiceprint [--quick] [--dev]``):

* all 6 FSDD speakers; each speaker's 500 utterances are shuffled and split into disjoint pools:
  cohort 150 (30 cohort entries of 5 utterances), enrolment 50 (5 enrolments of 10 utterances,
  about 4 s of speech) and trials 300 (60 trials of 5 utterances, about 2 s). ``--quick``: 50 / 10 /
  60 (10 entries, 1 enrolment, 12 trials per speaker) and only the production pipeline;
* every utterance is one recording, VAD-split like in a call (``biometrics.speech``); the production
  pipeline ("segments") averages per-segment embeddings (``biometrics.pooling``); "concat" embeds
  the concatenated speech at once; "novad" the concatenated untrimmed audio;
* every trial is scored against every enrolment; the cohort of a trial never holds the enrolled
  speaker nor the trial's speaker (leave-two-out; for target trials one more speaker, drawn with
  the seed, is left out so every trial sees 4 cohort speakers);
* FRR at FAR=1% uses the threshold set on this run's own non-target scores (a-posteriori, as is
  usual for reporting it). AS-norm K (50) was fixed before any run.

Extra score-level variants, learned on each trial's leave-two-out cohort only: "+center" subtracts
the cohort's mean embedding; "+wccn" also whitens with its within-speaker covariance (shrunk halfway
to identity). ``--dev`` reruns the experiment that chose segment pooling: raw cosine on the *cohort
pool* utterances only (3 enrolments x 10 and 24 trials x 5 per speaker), disjoint from the
evaluation enrolments and trials. Results go to benchmarks/results/voiceprint.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.calibration import eer, error_rates, threshold_at_far
from biometrics.dataset import FSDD_PATTERN, speaker_files
from biometrics.pooling import SegmentEncoder
from biometrics.resemblyzer_backend import ResemblyzerEmbedder
from biometrics.settings import BiometricsSettings
from biometrics.speech import split_speech
from biometrics.trials import Fit, Labeled, Matrix, TrialSet, score_matrix, split_scores
from biometrics.voiceprint import l2_normalize
from media.prompt import load_pcm

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
RESULTS = ROOT / "benchmarks" / "results" / "voiceprint.json"
SEED = 20240
TARGET_EER = 0.02
FULL = {"cohort": (30, 5), "enrol": (5, 10), "trial": (60, 5)}  # pool: (groups, utterances per group)
QUICK = {"cohort": (10, 5), "enrol": (1, 10), "trial": (12, 5)}
Groups = dict[str, list[tuple[str, list[Path]]]]


def _center(c: Matrix, _spk: list[str]) -> Callable[[Matrix], Matrix]:
    mu = c.mean(axis=0)
    return lambda x: l2_normalize(x - mu).astype(np.float64)


def _wccn(c: Matrix, spk: list[str]) -> Callable[[Matrix], Matrix]:
    mu, labels = c.mean(axis=0), np.array(spk)
    within = sum(np.cov((c[labels == s] - mu).T, bias=True) * np.sum(labels == s) for s in set(spk)) / len(c)
    shrunk = 0.5 * within + 0.5 * np.trace(within) / within.shape[0] * np.eye(within.shape[0])
    vals, vecs = np.linalg.eigh(shrunk)
    w = vecs @ np.diag(vals**-0.5) @ vecs.T
    return lambda x: l2_normalize((x - mu) @ w).astype(np.float64)


def _groups(data: Path, sizes: dict[str, tuple[int, int]], seed: int) -> Groups:
    rng = np.random.default_rng(seed)
    pools: Groups = {k: [] for k in sizes}
    for spk, files in speaker_files(data, FSDD_PATTERN).items():
        order = [files[i] for i in rng.permutation(len(files))]
        for pool, (n, per) in sizes.items():
            for _ in range(n):
                pools[pool].append((spk, order[:per]))
                order = order[per:]
    return pools


class _Embeddings:
    """Per-file audio and segments (read once) and the embedding of a group of files per variant."""

    def __init__(self) -> None:
        self.enc, self.s = ResemblyzerEmbedder(), BiometricsSettings()
        self.pooled = {p: SegmentEncoder(self.enc, p) for p in ("segments", "concat")}
        self.raw: dict[Path, np.ndarray] = {}
        self.segments: dict[Path, tuple[np.ndarray, ...]] = {}

    def group(self, files: list[Path], variant: str) -> np.ndarray:
        for f in files:
            if f not in self.raw:
                self.raw[f] = load_pcm(f)
                self.segments[f] = split_speech(self.raw[f], self.s.vad_aggressiveness, self.s.vad_padding_ms).segments
        if variant == "novad":
            return self.enc.embed(np.concatenate([self.raw[f] for f in files]))
        return self.pooled[variant].embed([seg for f in files for seg in self.segments[f]])

    def labeled(self, groups: list[tuple[str, list[Path]]], variant: str) -> Labeled:
        return Labeled([g[0] for g in groups], np.stack([self.group(files, variant) for _, files in groups]))


def _figures(tgt: np.ndarray, non: np.ndarray) -> dict[str, float]:
    rate, _ = eer(tgt, non)
    far, frr = error_rates(tgt, non, threshold_at_far(non, 0.01))
    return {"eer": rate, "frr_at_far1": frr, "far": far, "targets": int(tgt.size), "nontargets": int(non.size)}


def run(quick: bool = False, data: Path = DATA) -> list[dict[str, Any]]:
    """Run the benchmark; rows ``{name, value, target, passed}`` (also written to the results file)."""
    t0 = time.monotonic()
    top_k = BiometricsSettings().asnorm_top_k
    pools, emb = _groups(data, QUICK if quick else FULL, SEED), _Embeddings()
    fits: dict[str, Fit | None] = {"": None} if quick else {"": None, "+center": _center, "+wccn": _wccn}
    table: dict[str, dict[str, float]] = {}
    for variant in ["segments"] if quick else ["segments", "concat", "novad"]:
        enrol, trial, cohort = (emb.labeled(pools[p], variant) for p in ("enrol", "trial", "cohort"))
        ts = TrialSet(enrol, trial, cohort, emb.pooled["segments"].model)
        for fit_name, fit in fits.items():
            for norm in ("none", "snorm", "asnorm"):
                scores = score_matrix(ts, norm, top_k, SEED, fit)
                table[f"{variant}{fit_name} {'cosine' if norm == 'none' else norm}"] = _figures(
                    *split_scores(ts, scores))
    rows: list[dict[str, Any]] = []
    for name, fig in table.items():
        primary = name in ("segments cosine", "segments snorm", "segments asnorm")
        rows.append({"name": f"EER {name}", "value": round(fig["eer"], 4), "target": TARGET_EER if primary else None,
                     "passed": (fig["eer"] <= TARGET_EER) if primary else None})
        rows.append({"name": f"FRR@FAR1% {name}", "value": round(fig["frr_at_far1"], 4), "target": None,
                     "passed": None})
    empty = sum(1 for segs in emb.segments.values() if not segs)
    _write({"quick": quick, "seed": SEED, "top_k": top_k, "model": str(emb.pooled["segments"].model),
            "utterances_without_vad_speech": empty, "elapsed_s": round(time.monotonic() - t0, 1),
            "protocol": __doc__, "figures": table, "rows": rows})
    return rows


def dev(data: Path = DATA) -> dict[str, dict[str, float]]:
    """The pooling selection experiment: raw cosine on cohort-pool utterances only (see module doc)."""
    emb, out = _Embeddings(), {}
    by_spk: dict[str, list[Path]] = {}
    for spk, files in _groups(data, FULL, SEED)["cohort"]:
        by_spk.setdefault(spk, []).extend(files)
    enrol = [(s, f[i * 10 : i * 10 + 10]) for s, f in by_spk.items() for i in range(3)]
    trials = [(s, f[30 + i * 5 : 35 + i * 5]) for s, f in by_spk.items() for i in range(24)]
    for variant in ("segments", "concat", "novad"):
        e, p = emb.labeled(enrol, variant), emb.labeled(trials, variant)
        ts = TrialSet(e, p, Labeled([], np.zeros((0, 256), np.float32)), emb.pooled["segments"].model)
        out[f"dev {variant} cosine"] = _figures(*split_scores(ts, score_matrix(ts, "none")))
    return out


def _write(result: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**old, **result}, indent=2) + "\n")


def main() -> None:
    """Command line entry point: print the table."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer trials, production pipeline only")
    ap.add_argument("--dev", action="store_true", help="run the pooling selection experiment instead")
    ap.add_argument("--data", type=Path, default=DATA, help="FSDD recordings directory")
    args = ap.parse_args()
    if args.dev:
        figures = dev(args.data)
        _write({"dev": figures})
        for name, fig in figures.items():
            print(f"{name:28} EER {fig['eer']:.2%}  FRR@FAR1% {fig['frr_at_far1']:.2%}")
        return
    rows = run(args.quick, args.data)
    print(f"{'figure':44} {'value':>8} {'target':>8}  passed")
    for r in rows:
        target = "" if r["target"] is None else f"{r['target']:.2%}"
        passed = "" if r["passed"] is None else ("yes" if r["passed"] else "NO")
        print(f"{r['name']:44} {r['value']:>8.2%} {target:>8}  {passed}")
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    main()
