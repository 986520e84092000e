"""Replay-detection benchmark: live speech must never be flagged; replayed enrolment audio must be.

``python -m benchmarks.replay [--data DIR] [--fsdd DIR] [--quick]``

Protocol (seed ``SEED``, the voiceprint benchmark's speaker split: the threshold is chosen on *tune* and
reported on *eval*; FSDD is a second, out-of-domain report where speakers repeat the same ten words):

* per speaker, the first ``ENROL_FILES`` files (after a seeded shuffle) are "enrolment recordings": each
  is fingerprinted as it was uploaded (8 kHz file, no channel);
* **live** queries (must not be flagged): the speaker's other files joined with 0.3 s gaps, through the
  G.711 telephone channel, checked against the enrolment recordings of *every* speaker of the split
  (their own included: same voice, new words);
* **replay** queries (must be flagged): from each enrolment file a random ``REPLAY_S`` s stretch, through
  the channel, under each impairment of ``IMPAIRMENTS`` (level change, white noise, other speakers'
  babble), placed between live speech of the same speaker (an attacker mixes playback with talk);
* **earlier calls** (must not be flagged): pseudo-calls of about a minute (two speakers' audio each),
  through the channel, checked against one another: chance matches grow with length;
* the value compared is the largest number of landmarks aligned at one offset with any one known
  recording; the threshold is twice the largest value any live query or earlier call reaches on tune;
* reported per split: live queries flagged (false positives) and replays caught, per impairment.

Results: ``benchmarks/results/replay.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.channel import load_narrowband, telephone
from biometrics.dataset import FSDD_PATTERN, speaker_files, split_speakers
from biometrics.fingerprint import Fingerprint, align, fingerprint
from media.frame import Pcm
from media.prompt import load_pcm

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "speakers-dev"
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
RESULTS = ROOT / "benchmarks" / "results" / "replay.json"
SEED = 20261207  # the voiceprint benchmark's: the same speakers are tune / eval in both
ENROL_FILES = 3
REPLAY_S = 2.5
GAP = np.zeros(2400, np.int16)  # 0.3 s at 8 kHz
IMPAIRMENTS: dict[str, tuple[float, float | None, str]] = {  # name: (gain dB, SNR dB, noise)
    "clean": (0.0, None, ""), "-10 dB": (-10.0, None, ""), "white 20 dB": (0.0, 20.0, "white"),
    "white 10 dB": (0.0, 10.0, "white"), "babble 15 dB": (0.0, 15.0, "babble"),
}


def impair(pcm8k: Pcm, gain_db: float, snr_db: float | None, noise: str, babble: Pcm,
           rng: np.random.Generator) -> Pcm:
    """Level change and additive noise at ``snr_db`` (white, or a stretch of ``babble``)."""
    x = pcm8k.astype(np.float64) * 10 ** (gain_db / 20)
    if snr_db is not None:
        if noise == "white":
            n = rng.normal(0.0, 1.0, x.size)
        else:
            start = int(rng.integers(0, max(1, babble.size - x.size)))
            n = np.resize(babble[start : start + x.size].astype(np.float64), x.size)
        scale = math.sqrt(np.mean(x**2) / (10 ** (snr_db / 10)) / max(np.mean(n**2), 1e-9))
        x = x + scale * n
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def run_split(files: dict[str, list[Path]], rng: np.random.Generator) -> dict[str, Any]:
    """Live and replay scores of one split (see the module docstring)."""
    enrol: dict[str, list[Pcm]] = {}
    live: dict[str, Pcm] = {}
    uploaded: dict[str, list[Pcm]] = {}
    for spk, paths in files.items():
        order = [paths[i] for i in rng.permutation(len(paths))]
        enrol[spk] = [load_narrowband(p) for p in order[:ENROL_FILES]]
        uploaded[spk] = [load_pcm(p) for p in order[:ENROL_FILES]]  # as the enrolment API reads a file
        rest = [load_narrowband(p) for p in order[ENROL_FILES:]]
        live[spk] = np.concatenate([x for r in rest for x in (r, GAP)]) if rest else np.zeros(0, np.int16)
    known = {spk: [fingerprint(x) for x in pcms] for spk, pcms in uploaded.items()}
    every = [fp for fps in known.values() for fp in fps]
    live_best = {spk: _best(fingerprint(telephone(pcm)), every) for spk, pcm in live.items() if pcm.size}
    replays: dict[str, list[int]] = {name: [] for name in IMPAIRMENTS}
    lengths: list[float] = []
    for spk, pcms in enrol.items():
        others = [x for s, xs in enrol.items() if s != spk for x in xs[:1]]
        babble = np.sum([np.resize(x, 8000 * 8).astype(np.float64) for x in others[:6]], axis=0) if others else GAP
        for pcm in pcms:
            start = int(rng.integers(0, max(1, pcm.size - int(REPLAY_S * 8000))))
            stretch = pcm[start : start + int(REPLAY_S * 8000)]
            lengths.append(stretch.size / 8000)
            cut = int(rng.integers(0, max(1, live[spk].size)))
            for name, (gain, snr, noise) in IMPAIRMENTS.items():
                played = impair(stretch, gain, snr, noise, babble, rng)
                call = np.concatenate([live[spk][:cut], GAP, played, GAP, live[spk][cut:]])
                replays[name].append(_best(fingerprint(telephone(call)), known[spk]))
    # earlier calls: ~1 minute pseudo-calls (two speakers' audio each) checked against one another
    calls = [fingerprint(telephone(np.concatenate([x for s in pair for x in (*enrol[s], live[s])])))
             for pair in zip(list(enrol)[0::2], list(enrol)[1::2], strict=False)]
    long_best = [align(a, b).aligned for i, a in enumerate(calls) for j, b in enumerate(calls) if i != j]
    return {"speakers": len(files), "live": live_best, "long": long_best, "replays": replays,
            "replay_s": round(float(np.mean(lengths)), 2) if lengths else 0.0,
            "call_s": round(float(np.mean([c.duration_s for c in calls])), 1) if calls else 0.0}


def _best(query: Fingerprint, known: Sequence[Fingerprint]) -> int:
    return max((align(query, ref).aligned for ref in known), default=0)


def summarise(split: dict[str, Any], threshold: int) -> dict[str, Any]:
    """False positives among live queries and catch rate per impairment at ``threshold``."""
    live = list(split["live"].values())
    long = split["long"]
    out: dict[str, Any] = {"speakers": split["speakers"], "live_queries": len(live),
                           "live_flagged": sum(v >= threshold for v in live), "live_max": max(live, default=0),
                           "call_pairs": len(long), "call_s": split["call_s"], "replay_s": split["replay_s"],
                           "call_pairs_flagged": sum(v >= threshold for v in long), "call_max": max(long, default=0)}
    out["caught"] = {name: {"caught": sum(v >= threshold for v in vals), "of": len(vals),
                            "rate": round(sum(v >= threshold for v in vals) / max(len(vals), 1), 4),
                            "min": min(vals, default=0), "median": float(np.median(vals)) if vals else 0.0}
                     for name, vals in split["replays"].items()}
    return out


def table(result: dict[str, Any]) -> str:
    """Plain-text table of the summary."""
    lines = [f"threshold: {result['threshold']} aligned landmarks (chosen on tune)",
             f"{'split':<6} {'live flagged':>14} {'live max':>9} {'calls flagged':>14} {'calls max':>9} "
             + " ".join(f"{n:>14}" for n in IMPAIRMENTS)]
    for name, s in result["splits"].items():
        caught = " ".join(f"{c['caught']:>6}/{c['of']:<3} {100 * c['rate']:>3.0f}%" for c in s["caught"].values())
        lines.append(f"{name:<6} {s['live_flagged']:>6}/{s['live_queries']:<7} {s['live_max']:>9} "
                     f"{s['call_pairs_flagged']:>6}/{s['call_pairs']:<7} {s['call_max']:>9} {caught}")
    return "\n".join(lines)


def main() -> None:
    """Run, print the table, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--fsdd", type=Path, default=FSDD)
    ap.add_argument("--quick", action="store_true", help="20 speakers per split")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    started = time.perf_counter()
    speakers = speaker_files(args.data)
    parts = split_speakers(list(speakers), SEED)
    raw: dict[str, dict[str, Any]] = {}
    for name in ("tune", "eval"):
        chosen = parts[name][:20] if args.quick else parts[name]
        raw[name] = run_split({s: speakers[s] for s in chosen}, np.random.default_rng(SEED))
    if args.fsdd.is_dir():
        fsdd = speaker_files(args.fsdd, FSDD_PATTERN)
        raw["fsdd"] = run_split({s: f[:10] for s, f in fsdd.items()}, np.random.default_rng(SEED))
    threshold = 2 * max([*raw["tune"]["live"].values(), *raw["tune"]["long"]])
    result = {"seed": SEED, "protocol": __doc__, "threshold": threshold, "replay_s": REPLAY_S,
              "splits": {name: summarise(split, threshold) for name, split in raw.items()},
              "elapsed_s": round(time.perf_counter() - started, 1)}
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
