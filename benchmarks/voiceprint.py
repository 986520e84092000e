"""Voiceprint benchmark on real speech, through the engine the API uses.

``python -m benchmarks.voiceprint [--data DIR] [--fsdd DIR] [--split tune,eval,fsdd] [--quick] [--ship]``

Protocol (fixed seed ``SEED``; every choice is made on *tune*, figures are reported on *eval*):

* the speakers of ``--data`` (one folder each; default ``../shared/data/speakers-dev``) are split **by
  speaker** into tune (50%), cohort (25%) and eval (25%) with :func:`biometrics.dataset.split_speakers`;
* every file goes through the telephone channel a caller's voice takes (8 kHz, G.711 u-law per 20 ms packet,
  Hotline's decoder to 16 kHz: :func:`biometrics.channel.load_call_audio`);
* per speaker the files are shuffled with the seed; the first ``ENROL_FILES`` are enrolled with
  ``VoiceprintEngine.enroll_from_pcm`` (the API's path and quality gates: a refusal is a failure to
  enrol, FTE); the speech of the other files is cut into clips of exactly 3, 5 and 10 s of net speech;
* every clip is embedded with the engine's encoder and scored against every enrolled speaker of the same
  split with :class:`biometrics.scoring.Scorer` (same speaker: target trial); the impostor cohort is the
  cohort split (entries of 3 s of speech), exactly what ``--ship`` writes to ``configs/voiceprint``, so no
  trial's speakers are ever in it;
* configurations: VAD mode x pooling x norm (raw cosine, S-norm, AS-norm with K in ``TOP_KS``) on tune; VAD
  and pooling are those of the raw-cosine configuration with the lowest EER averaged over the clip lengths,
  and a norm is kept only if it beats raw cosine (same VAD and pooling) at every clip length
  (:func:`choose`); eval and FSDD report that configuration next to raw cosine, S-norm and AS-norm with the
  same VAD and pooling;
* figures: EER, FRR at FAR 1% and 0.1% (thresholds set a posteriori on the same trials, as is usual for
  reporting them), minDCF (P_target 0.01), FTE, each with a 95% bootstrap interval (speakers resampled
  with replacement, ``BOOT`` rounds) and the trial counts;
* FSDD (``--fsdd``, 6 speakers reading digits, out of domain): ``FSDD_FILES`` files per speaker, the first
  ``FSDD_ENROL`` enrolled, the same clips and cohort.

``--ship`` also writes the shipped cohort (the cohort split) and calibration: the threshold for FAR 1% is
set on trials among the cohort-split speakers (enrolled and scored like eval), never on eval.
Results: ``benchmarks/results/voiceprint.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.backends import load_embedder
from biometrics.calibration import Calibration, calibrate_scores, eer, error_rates, min_dcf, threshold_at_far
from biometrics.channel import load_call_audio
from biometrics.cohort import Cohort
from biometrics.dataset import FSDD_PATTERN, speaker_files, split_speakers
from biometrics.embedder import Embedder
from biometrics.errors import QualityError
from biometrics.pooling import SegmentEncoder
from biometrics.scoring import Scorer
from biometrics.service import VoiceprintEngine
from biometrics.settings import DEFAULT_CALIBRATION, DEFAULT_COHORT, BiometricsSettings, Norm, Pooling
from biometrics.speech import group_segments, speech_clips
from biometrics.voiceprint import Voiceprint
from media.frame import Pcm

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "speakers-dev"
FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
RESULTS = ROOT / "benchmarks" / "results" / "voiceprint.json"
SEED = 20261207
ENROL_FILES = 3
CLIPS = (3.0, 5.0, 10.0)
TOP_KS = (10, 25, 50)
VADS = (1, 2, 3)
POOLINGS: tuple[Pooling, ...] = ("segments", "concat")
FSDD_FILES, FSDD_ENROL = 60, 20
BOOT = 300
TARGETS = {"eer": 0.01, "frr_far1": 0.02, "fte": 0.05}


@dataclass(frozen=True)
class Config:
    """One scoring configuration."""

    vad: int
    pooling: Pooling
    norm: Norm
    top_k: int = 0

    @property
    def name(self) -> str:
        norm = f"asnorm K={self.top_k}" if self.norm == "asnorm" else ("cosine" if self.norm == "none" else "snorm")
        return f"vad{self.vad} {self.pooling} {norm}"

    def simplicity(self) -> tuple[int, int, int]:
        """Lower is simpler: no norm before S-norm before AS-norm, segment pooling, the default VAD mode."""
        return ({"none": 0, "snorm": 1, "asnorm": 2}[self.norm], POOLINGS.index(self.pooling), abs(self.vad - 2))


@dataclass
class Side:
    """Enrolled voiceprints and probe clips of one split, embedded with one VAD mode and pooling."""

    enrolled: dict[str, Voiceprint]
    failures: dict[str, str]  # speaker -> why enrolment was refused
    probes: dict[float, list[tuple[str, Voiceprint]]]  # clip length -> (speaker, embedding)
    speakers: list[str]


class Audio:
    """Each file read once through the telephone channel."""

    def __init__(self) -> None:
        self._pcm: dict[Path, Pcm] = {}

    def __call__(self, path: Path) -> Pcm:
        if path not in self._pcm:
            self._pcm[path] = load_call_audio(path, "PCMU")
        return self._pcm[path]


def engine_for(embedder: Embedder, vad: int, pooling: Pooling) -> VoiceprintEngine:
    """An engine with the API's gates and encoder for these settings (its own scorer is not used here)."""
    settings = BiometricsSettings(vad_aggressiveness=vad, pooling=pooling)
    tag = SegmentEncoder(embedder, pooling).model
    placeholder = Calibration(tag.model_id, tag.version, "none", 0.0, 0.01, 0.0, 0.0, 0.0)
    return VoiceprintEngine(settings, embedder, Scorer(None, "none"), placeholder)


def embed_side(engine: VoiceprintEngine, files: dict[str, list[Path]], audio: Audio, enrol_n: int,
               seed: int) -> Side:
    """Enrol each speaker from its first ``enrol_n`` shuffled files; cut the rest into clips."""
    rng = np.random.default_rng(seed)
    enrolled: dict[str, Voiceprint] = {}
    failures: dict[str, str] = {}
    probes: dict[float, list[tuple[str, Voiceprint]]] = {c: [] for c in CLIPS}
    for spk in sorted(files):
        order = [files[spk][i] for i in rng.permutation(len(files[spk]))]
        try:
            enrolled[spk] = engine.enroll_from_pcm([audio(f) for f in order[:enrol_n]]).embedding
        except QualityError as exc:
            failures[spk] = "; ".join(exc.report.reasons)
        segments = [seg for f in order[enrol_n:] for seg in engine.split(audio(f)).segments]
        for length in CLIPS:
            for clip in speech_clips(segments, length):
                probes[length].append((spk, engine.encoder.voiceprint(clip)))
    return Side(enrolled, failures, probes, sorted(files))


def cohort_of(engine: VoiceprintEngine, files: dict[str, list[Path]], audio: Audio) -> Cohort:
    """The impostor cohort: every cohort-split speaker's speech in entries of 3 s."""
    rows, names = [], []
    for spk in sorted(files):
        segments = [seg for f in files[spk] for seg in engine.split(audio(f)).segments]
        for piece in group_segments(segments, engine.settings.cohort_entry_speech_s, 1.0):
            rows.append(engine.encoder.embed(piece))
            names.append(spk)
    return Cohort(np.stack(rows).astype(np.float32), names, engine.model)


@dataclass
class Trials:
    """Scores of every probe clip against every enrolled speaker, with both speakers of each trial."""

    scores: np.ndarray
    enrolled: np.ndarray
    probe: np.ndarray

    @property
    def target(self) -> np.ndarray:
        return self.enrolled == self.probe


def score_trials(side: Side, length: float, scorer: Scorer) -> Trials:
    """All trials of one clip length under one scorer."""
    scores, enr, prb = [], [], []
    for spk_e, vp in side.enrolled.items():
        for spk_p, probe in side.probes[length]:
            scores.append(scorer.score(vp, probe))
            enr.append(spk_e)
            prb.append(spk_p)
    return Trials(np.array(scores), np.array(enr), np.array(prb))


def figures(trials: Trials) -> dict[str, float]:
    """EER, FRR at FAR 1% and 0.1%, minDCF of one set of trials."""
    tgt, non = trials.scores[trials.target], trials.scores[~trials.target]
    rate, _ = eer(tgt, non)
    out = {"eer": rate, "mindcf": min_dcf(tgt, non)}
    for name, far in (("frr_far1", 0.01), ("frr_far01", 0.001)):
        out[name] = error_rates(tgt, non, threshold_at_far(non, far))[1]
    return out


def bootstrap(trials: Trials, speakers: Sequence[str], rounds: int, seed: int) -> dict[str, list[float]]:
    """95% intervals: speakers resampled with replacement, every trial weighted by how often its two speakers
    were drawn."""
    rng = np.random.default_rng(seed)
    names = np.array(sorted(speakers))
    index = {n: i for i, n in enumerate(names)}
    e_idx = np.array([index[s] for s in trials.enrolled])
    p_idx = np.array([index[s] for s in trials.probe])
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        counts = np.bincount(rng.integers(0, len(names), len(names)), minlength=len(names))
        weight = counts[e_idx] * counts[p_idx]
        keep = np.repeat(np.arange(len(weight)), weight)
        boot = Trials(trials.scores[keep], trials.enrolled[keep], trials.probe[keep])
        if not boot.target.any() or boot.target.all():
            continue
        for key, value in figures(boot).items():
            samples.setdefault(key, []).append(value)
    return {k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] for k, v in samples.items()}


def fte(side: Side, rounds: int, seed: int) -> dict[str, Any]:
    """Failure to enrol, its 95% interval (speakers resampled) and the reasons."""
    failed = np.array([s in side.failures for s in side.speakers], dtype=float)
    rng = np.random.default_rng(seed)
    boots = [failed[rng.integers(0, failed.size, failed.size)].mean() for _ in range(rounds)]
    return {"fte": float(failed.mean()), "ci": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
            "speakers": int(failed.size), "failed": dict(sorted(side.failures.items()))}


def report(side: Side, cohort: Cohort, configs: Sequence[Config], rounds: int, seed: int) -> dict[str, Any]:
    """Every configuration's figures per clip length, with intervals and counts."""
    out: dict[str, Any] = {}
    for cfg in configs:
        scorer = Scorer(cohort if cfg.norm != "none" else None, cfg.norm, cfg.top_k or 50)
        per_clip = {}
        for length in CLIPS:
            trials = score_trials(side, length, scorer)
            if not trials.target.any() or trials.target.all():
                continue
            per_clip[f"{length:g}s"] = {**figures(trials), "ci": bootstrap(trials, side.speakers, rounds, seed),
                                        "targets": int(trials.target.sum()),
                                        "nontargets": int((~trials.target).sum())}
        out[cfg.name] = per_clip
    return out


def choose(tune: dict[str, Any], configs: Sequence[Config]) -> Config:
    """VAD mode and pooling: the raw-cosine configuration with the lowest EER averaged over the clip lengths on
    tune. A norm then replaces raw cosine only if it beats it (same VAD and pooling) at every clip length."""

    def mean_eer(cfg: Config) -> float:
        return float(np.mean([f["eer"] for f in tune[cfg.name].values()]))

    def beats(cfg: Config, base: Config) -> bool:
        return all(tune[cfg.name][clip]["eer"] < f["eer"] for clip, f in tune[base.name].items())

    base = min((c for c in configs if c.norm == "none"), key=lambda c: (mean_eer(c), c.simplicity()))
    better = [c for c in configs if (c.vad, c.pooling) == (base.vad, base.pooling) and c.norm != "none"
              and beats(c, base)]
    return min(better, key=mean_eer) if better else base


def ship(side: Side, cohort: Cohort, cfg: Config, target_far: float = 0.01) -> Calibration:
    """The shipped calibration: threshold for ``target_far`` on trials among cohort-split speakers."""
    scorer = Scorer(cohort if cfg.norm != "none" else None, cfg.norm, cfg.top_k or 50)
    trials = score_trials(side, CLIPS[0], scorer)
    tgt, non = trials.scores[trials.target], trials.scores[~trials.target]
    protocol = {"name": "hotline-voiceprint-v2", "seed": SEED, "split": "cohort", "channel": "PCMU",
                "enrol_files": ENROL_FILES, "probe_speech_s": CLIPS[0], "vad_aggressiveness": cfg.vad,
                "pooling": cfg.pooling, "top_k": cfg.top_k or 50, "speakers": len(side.speakers),
                "target_trials": int(tgt.size), "nontarget_trials": int(non.size),
                "summary": "speakers-dev cohort split through G.711 u-law; enrolment from 3 files, probes of 3 s of "
                           "net speech; threshold at FAR 1% of these trials (never eval)"}
    return calibrate_scores(tgt, non, cohort.model, cfg.norm, target_far, protocol)


def operating_point(side: Side, cohort: Cohort, cfg: Config, cal: Calibration) -> dict[str, Any]:
    """What the shipped threshold and margin do on these trials, per clip length: FAR, FRR and the share of
    decisions left inconclusive (a score within the margin of the threshold)."""
    scorer = Scorer(cohort if cfg.norm != "none" else None, cfg.norm, cfg.top_k or 50)
    out = {}
    for length in CLIPS:
        trials = score_trials(side, length, scorer)
        tgt, non = trials.scores[trials.target], trials.scores[~trials.target]
        far, frr = error_rates(tgt, non, cal.threshold)
        band = np.abs(trials.scores - cal.threshold) < cal.inconclusive_margin
        out[f"{length:g}s"] = {"far": far, "frr": frr, "inconclusive": float(band.mean()),
                               "verified_impostors": float(np.mean(non >= cal.threshold + cal.inconclusive_margin)),
                               "rejected_genuine": float(np.mean(tgt < cal.threshold - cal.inconclusive_margin)),
                               "targets": int(tgt.size), "nontargets": int(non.size)}
    return out


def run(data: Path = DATA, fsdd: Path | None = FSDD, splits: Sequence[str] = ("tune", "eval", "fsdd"),
        quick: bool = False, write_shipped: bool = False, log: Callable[[str], None] = print,
        vads: Sequence[int] = VADS, poolings: Sequence[Pooling] = POOLINGS, out: Path = RESULTS,
        backend: BiometricsSettings | None = None) -> dict[str, Any]:
    """Run the benchmark and return (and write) the results (``vads`` x ``poolings``: the tune grid).

    ``backend``: settings naming the embedding backend (default: resemblyzer, the shipped one).
    """
    t0 = time.monotonic()
    rounds = 100 if quick else BOOT
    embedder, audio = load_embedder(backend or BiometricsSettings()), Audio()
    files = speaker_files(data)
    split = split_speakers(list(files), SEED)
    by_split = {name: {s: files[s] for s in speakers} for name, speakers in split.items()}
    if quick:
        vads, poolings = (2,), ("segments",)
    result: dict[str, Any] = {"seed": SEED, "data": str(data), "split": split, "quick": quick,
                              "protocol": __doc__, "model": None, "tune": {}, "eval": {}, "fsdd": {}}
    configs_all: list[Config] = []
    cohorts: dict[tuple[int, Pooling], Cohort] = {}
    engines: dict[tuple[int, Pooling], VoiceprintEngine] = {}
    for vad in vads:
        for pooling in poolings:
            engine = engines[(vad, pooling)] = engine_for(embedder, vad, pooling)
            cohorts[(vad, pooling)] = cohort_of(engine, by_split["cohort"], audio)
            configs_all += [Config(vad, pooling, "none"), Config(vad, pooling, "snorm")]
            configs_all += [Config(vad, pooling, "asnorm", k) for k in TOP_KS]
    log(f"speakers: tune {len(split['tune'])}, cohort {len(split['cohort'])}, eval {len(split['eval'])}")
    tune_sides = {key: embed_side(eng, by_split["tune"], audio, ENROL_FILES, SEED) for key, eng in engines.items()}
    for key, side in tune_sides.items():
        log(f"tune vad{key[0]} {key[1]}: embedded ({time.monotonic() - t0:.0f} s)")
        mine = [c for c in configs_all if (c.vad, c.pooling) == key]
        result["tune"].update(report(side, cohorts[key], mine, rounds, SEED))
        result.setdefault("fte", {})[f"tune vad{key[0]} {key[1]}"] = fte(side, rounds, SEED)
    chosen = choose(result["tune"], configs_all)
    result["chosen"] = chosen.name
    key = (chosen.vad, chosen.pooling)
    result["model"] = str(engines[key].model)
    shown = [Config(chosen.vad, chosen.pooling, "none"), Config(chosen.vad, chosen.pooling, "snorm"),
             Config(chosen.vad, chosen.pooling, "asnorm", chosen.top_k or 50)]
    if chosen not in shown:
        shown.append(chosen)
    shipped: Calibration | None = None
    if write_shipped:
        cohort_side = embed_side(engines[key], by_split["cohort"], audio, ENROL_FILES, SEED)
        shipped = ship(cohort_side, cohorts[key], chosen)
        shipped.save(DEFAULT_CALIBRATION)
        cohorts[key].save(DEFAULT_COHORT)
        result["shipped"] = {"norm": shipped.norm, "threshold": shipped.threshold, "margin": shipped.margin,
                             "far": shipped.far, "frr": shipped.frr, "eer": shipped.eer,
                             "cohort_entries": len(cohorts[key])}
    if "eval" in splits:
        side = embed_side(engines[key], by_split["eval"], audio, ENROL_FILES, SEED)
        result["eval"] = report(side, cohorts[key], shown, rounds, SEED)
        result["fte"]["eval"] = fte(side, rounds, SEED)
        if shipped is not None:
            result["eval_at_shipped_threshold"] = operating_point(side, cohorts[key], chosen, shipped)
    if "fsdd" in splits and fsdd is not None and fsdd.is_dir():
        rng = np.random.default_rng(SEED)
        fs = {s: [f[i] for i in rng.permutation(len(f))[:FSDD_FILES]]
              for s, f in speaker_files(fsdd, FSDD_PATTERN).items()}
        side = embed_side(engines[key], fs, audio, FSDD_ENROL, SEED)
        result["fsdd"] = report(side, cohorts[key], shown, rounds, SEED)
        result["fte"]["fsdd"] = fte(side, rounds, SEED)
    result["elapsed_s"] = round(time.monotonic() - t0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result


def table(result: dict[str, Any]) -> str:
    """The printed table: every configuration per split and clip length, with intervals."""
    def pct(v: float) -> str:
        return f"{100 * v:5.2f}"

    def ci(c: list[float]) -> str:
        return f"[{pct(c[0])}-{pct(c[1])}]"

    lines = [f"{'split':5} {'configuration':26} {'clip':>4}  {'EER %':>21} {'FRR@FAR1% %':>21} "
             f"{'FRR@FAR0.1% %':>21} {'minDCF':>6} {'tgt':>5} {'non':>6}"]
    for split in ("tune", "eval", "fsdd"):
        for name, per_clip in result.get(split, {}).items():
            for clip, f in per_clip.items():
                mark = "*" if name == result.get("chosen") else " "
                lines.append(f"{split:5} {mark}{name:25} {clip:>4}  {pct(f['eer'])} {ci(f['ci']['eer'])} "
                             f"{pct(f['frr_far1'])} {ci(f['ci']['frr_far1'])} {pct(f['frr_far01'])} "
                             f"{ci(f['ci']['frr_far01'])} {f['mindcf']:6.3f} {f['targets']:5} {f['nontargets']:6}")
    for clip, f in result.get("eval_at_shipped_threshold", {}).items():
        lines.append(f"eval at the shipped threshold, {clip}: FAR {pct(f['far'])}%  FRR {pct(f['frr'])}%  "
                     f"inconclusive {pct(f['inconclusive'])}%  impostors verified {pct(f['verified_impostors'])}%  "
                     f"genuine rejected {pct(f['rejected_genuine'])}%")
    for name, f in result.get("fte", {}).items():
        lines.append(f"FTE {name}: {pct(f['fte'])}% [{pct(f['ci'][0])}-{pct(f['ci'][1])}] of {f['speakers']}")
    lines.append(f"chosen on tune (*): {result.get('chosen')}")
    return "\n".join(lines)


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder of speaker folders")
    ap.add_argument("--fsdd", type=Path, default=FSDD, help="FSDD recordings (out-of-domain report)")
    ap.add_argument("--split", default="tune,eval,fsdd", help="what to report besides tune: eval, fsdd")
    ap.add_argument("--quick", action="store_true", help="VAD 2, segment pooling only, 100 bootstrap rounds")
    ap.add_argument("--ship", action="store_true", help="write the shipped cohort and calibration")
    ap.add_argument("--vad", type=int, action="append", choices=VADS, help="tune grid: VAD modes (default all)")
    ap.add_argument("--pooling", action="append", choices=POOLINGS, help="tune grid: poolings (default all)")
    ap.add_argument("--out", type=Path, help="results JSON (default: results/voiceprint[-BACKEND].json)")
    ap.add_argument("--backend", choices=("resemblyzer", "speechbrain"), default="resemblyzer")
    ap.add_argument("--speechbrain-source", type=Path, help="speechbrain: a local folder with hyperparams.yaml "
                    "and embedding_model.ckpt (nothing is downloaded)")
    args = ap.parse_args()
    backend = BiometricsSettings(backend=args.backend, speechbrain_source=args.speechbrain_source)
    if args.backend == "speechbrain":
        if args.speechbrain_source is None or not args.speechbrain_source.is_dir():
            ap.exit(2, "speechbrain: --speechbrain-source must be a local folder with the model's weights "
                    "(this benchmark never downloads them)\n")
        if args.ship:
            ap.exit(2, "--ship writes the shipped resemblyzer files; calibrate other backends with "
                    "`hotline voiceprint calibrate`\n")
    named = RESULTS.with_name(f"voiceprint-{args.backend}.json")
    out = args.out or (RESULTS if args.backend == "resemblyzer" else named)
    result = run(args.data, args.fsdd, args.split.split(","), args.quick, args.ship, print,
                 tuple(args.vad or VADS), tuple(args.pooling or POOLINGS), out, backend)
    print(table(result))
    print(f"results: {out} ({result['elapsed_s']} s)")


if __name__ == "__main__":
    main()
