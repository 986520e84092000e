"""SNR estimator accuracy on real speech mixed with white and babble noise at known SNRs.

``python -m benchmarks.snr [--data DIR] [--split tune|eval] [--files N]``

Speakers are split as in :mod:`benchmarks.voiceprint` (same seed). For up to ``--files`` speakers per split,
one clean file each (seeded; clean: its quietest 5% of frames lie at least 45 dB below its active speech
level, so its own noise does not change the SNR it is mixed to) is mixed with noise at 10, 15, 20 and 30 dB.
SNR is the clean speech's active level (mean energy of the frames webrtcvad calls voiced) over the noise's
mean energy. The mix goes through the telephone channel (G.711 u-law) and is split like enrolment audio.
White noise is Gaussian; babble is six other speakers of the same split talking at once. The error of an
estimator is its estimate minus the mixing SNR; it passes when every error is within 3 dB. ``shipped`` is
:func:`biometrics.quality.snr_db` (median energy of unvoiced frames as the noise floor); ``lowNN`` are the
candidates tried on tune (mean energy of the quietest NN% of frames).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.channel import load_narrowband, telephone
from biometrics.dataset import speaker_files, split_speakers
from biometrics.quality import snr_db
from biometrics.speech import SpeechSplit, split_speech
from media.frame import Pcm

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "speakers-dev"
RESULTS = ROOT / "benchmarks" / "results" / "snr.json"
SEED = 20261207  # the voiceprint benchmark's split
LEVELS = (10.0, 15.0, 20.0, 30.0)
TOLERANCE_DB = 3.0
BABBLE_TALKERS = 6


def _floor(fraction: float) -> Callable[[SpeechSplit], float]:
    """Candidate: noise = mean energy of the quietest ``fraction`` of all frames."""

    def estimate(split: SpeechSplit) -> float:
        if split.voiced_energy.size == 0:
            return 0.0
        frames = np.sort(np.concatenate([split.voiced_energy, split.unvoiced_energy]))
        noise = float(np.mean(frames[: max(1, int(fraction * frames.size))]))
        return 10 * math.log10(max(float(np.mean(split.voiced_energy)) - noise, 1.0) / max(noise, 1.0))

    return estimate


ESTIMATORS: dict[str, Callable[[SpeechSplit], float]] = {"shipped": snr_db,
                                                         "low20": _floor(0.2), "low25": _floor(0.25),
                                                         "low30": _floor(0.3)}
CLEAN_FLOOR_DB = 45.0  # a file is clean when its quietest 5% of frames are this far below its active level


def is_clean(pcm8k: Pcm) -> bool:
    """Whether a recording's own noise is far enough below its speech for the mixed noise to dominate it."""
    split = split_speech(telephone(pcm8k))
    if split.voiced_energy.size == 0:
        return False
    frames = np.concatenate([split.voiced_energy, split.unvoiced_energy])
    floor = max(float(np.percentile(frames, 5)), 1.0)
    return 10 * math.log10(float(np.mean(split.voiced_energy)) / floor) >= CLEAN_FLOOR_DB


def active_level(pcm8k: Pcm) -> float:
    """Active speech level of clean 8 kHz speech: mean energy per sample of the frames webrtcvad calls voiced
    (measured after the channel, whose resampling keeps the energy per sample)."""
    split = split_speech(telephone(pcm8k))
    return float(np.mean(split.voiced_energy)) if split.voiced_energy.size else 0.0


def mix(clean: Pcm, noise: np.ndarray, snr: float) -> Pcm:
    """``clean`` plus ``noise`` scaled so that the active speech level over the noise energy is ``snr`` dB."""
    n = noise[: clean.size].astype(np.float64)
    n *= math.sqrt(active_level(clean) / 10 ** (snr / 10) / max(float(np.mean(n**2)), 1e-9))
    return np.clip(np.round(clean.astype(np.float64) + n), -32768, 32767).astype(np.int16)


def babble(files: list[Path], length: int, rng: np.random.Generator) -> np.ndarray:
    """Several talkers at once, each normalised to the same level, looped to ``length`` samples."""
    out = np.zeros(length)
    for f in files:
        pcm = load_narrowband(f).astype(np.float64)
        pcm /= max(float(np.sqrt(np.mean(pcm**2))), 1.0)
        reps = int(np.ceil(length / pcm.size)) + 1
        start = int(rng.integers(0, pcm.size))
        out += np.tile(pcm, reps)[start : start + length]
    return out


def run(data: Path = DATA, split_name: str = "tune", files: int = 30) -> dict[str, Any]:
    """Errors of every estimator per noise and level."""
    rng = np.random.default_rng(SEED)
    speakers = speaker_files(data)
    names = split_speakers(list(speakers), SEED)[split_name][:files]
    errors: dict[str, dict[str, list[float]]] = {e: {} for e in ESTIMATORS}
    clean_estimates: dict[str, list[float]] = {e: [] for e in ESTIMATORS}
    skipped = 0
    for spk in names:
        candidates = [speakers[spk][i] for i in rng.permutation(len(speakers[spk]))]
        clean = next((pcm for pcm in map(load_narrowband, candidates) if is_clean(pcm)), None)
        if clean is None:
            skipped += 1
            continue
        others = [f for s in names if s != spk for f in speakers[s][:1]]
        talkers = [others[i] for i in rng.permutation(len(others))[:BABBLE_TALKERS]]
        noises = {"white": rng.standard_normal(clean.size), "babble": babble(talkers, clean.size, rng)}
        split = split_speech(telephone(clean))
        for est, fn in ESTIMATORS.items():
            clean_estimates[est].append(fn(split))
        for kind, noise in noises.items():
            for level in LEVELS:
                noisy = split_speech(telephone(mix(clean, noise, level)))
                for est, fn in ESTIMATORS.items():
                    errors[est].setdefault(f"{kind} {level:g} dB", []).append(fn(noisy) - level)
    summary = {est: {cond: {"mean": float(np.mean(v)), "p5": float(np.percentile(v, 5)),
                            "p95": float(np.percentile(v, 95)), "max_abs": float(np.max(np.abs(v))),
                            "within_3db": float(np.mean(np.abs(np.array(v)) <= TOLERANCE_DB))}
                     for cond, v in by.items()} for est, by in errors.items()}
    result = {"split": split_name, "files": len(names) - skipped, "speakers_without_a_clean_file": skipped,
              "seed": SEED, "tolerance_db": TOLERANCE_DB,
              "summary": summary, "clean_estimate_median": {e: float(np.median(v)) for e, v in clean_estimates.items()},
              "protocol": __doc__}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**old, split_name: result}, indent=2) + "\n")
    return result


def main() -> None:
    """Command line entry point: print the table."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--split", default="tune", choices=("tune", "eval"))
    ap.add_argument("--files", type=int, default=30)
    args = ap.parse_args()
    result = run(args.data, args.split, args.files)
    print(f"{'estimator':9} {'condition':14} {'mean err':>8} {'p5':>6} {'p95':>6} {'max|err|':>8} {'<=3 dB':>7}")
    for est, by in result["summary"].items():
        for cond, s in by.items():
            print(f"{est:9} {cond:14} {s['mean']:8.2f} {s['p5']:6.2f} {s['p95']:6.2f} {s['max_abs']:8.2f} "
                  f"{s['within_3db']:7.0%}")
    print(f"clean files, median estimate: {result['clean_estimate_median']}")


if __name__ == "__main__":
    main()
