"""The calibration protocol: cut speakers' audio into cohort, enrolment and probe speech, then score.

Per speaker (speakers in name order, files shuffled with ``seed``):

1. the first ``cohort_share`` of the files form the cohort pool; their speech segments (VAD) are
   grouped into entries of at least ``cohort_entry_speech_s``;
2. the following files are taken until they hold ``enrollments_per_speaker * enroll_speech_s`` of
   speech, grouped into that many enrolments of at least ``enroll_speech_s``;
3. the remaining files' speech is grouped into probes of at least ``probe_speech_s``.

Pools never share a file. Every probe is scored against every enrolment (same speaker: target,
otherwise non-target) with the leave-two-out cohort of :mod:`biometrics.trials`. The cohort shipped
for production is the union of all speakers' cohort pools.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.calibration import Calibration, calibrate_scores
from biometrics.channel import Channel, load_call_audio
from biometrics.cohort import Cohort
from biometrics.errors import DatasetError
from biometrics.pooling import Progress, SegmentEncoder
from biometrics.settings import Norm
from biometrics.speech import group_segments, split_speech
from biometrics.trials import Labeled, TrialSet, score_matrix, split_scores
from media.frame import Pcm


@dataclass(frozen=True)
class Protocol:
    """Parameters of the calibration protocol (recorded in the calibration file)."""

    enroll_speech_s: float = 8.0
    probe_speech_s: float = 3.0
    enrollments_per_speaker: int = 3
    cohort_share: float = 0.3
    cohort_entry_speech_s: float = 3.0
    top_k: int = 50
    seed: int = 0
    vad_aggressiveness: int = 2
    vad_padding_ms: int = 90
    channel: Channel = "none"  # PCMU/PCMA: pass every file through the telephone channel first

    def describe(self) -> dict[str, Any]:
        """JSON-ready parameters plus a one-line summary."""
        return {"name": "hotline-voiceprint-v1", **asdict(self),
                "summary": "per speaker: shuffled files -> disjoint cohort/enrolment/probe pools of VAD-trimmed "
                "speech; all probes x all enrolments; leave-two-out cohort (neither enrolled nor probe speaker)"}


Piece = list[Pcm]  # the speech segments of one enrolment, probe or cohort entry


def _cut(speaker: str, files: Sequence[Path], proto: Protocol, rng: np.random.Generator
         ) -> tuple[list[Piece], list[Piece], list[Piece]]:
    order = [files[i] for i in rng.permutation(len(files))]
    n_cohort = round(proto.cohort_share * len(order))
    load = [split_speech(load_call_audio(f, proto.channel), proto.vad_aggressiveness, proto.vad_padding_ms).segments
            for f in order]

    def segs(part: list[tuple[Pcm, ...]]) -> list[Pcm]:
        return [seg for file_segments in part for seg in file_segments]

    split, enrol = n_cohort, list[Piece]()
    while split < len(load) and len(enrol) < proto.enrollments_per_speaker:
        split += 1
        enrol = group_segments(segs(load[n_cohort:split]), proto.enroll_speech_s, 1.0)
    cohort = group_segments(segs(load[:n_cohort]), proto.cohort_entry_speech_s, 1.0)
    probes = group_segments(segs(load[split:]), proto.probe_speech_s, 1.0)
    if len(enrol) < proto.enrollments_per_speaker or not probes:
        raise DatasetError(files[0].parent, f"speaker {speaker!r} has too little speech: {len(enrol)} enrolments "
                           f"of {proto.enroll_speech_s} s, {len(probes)} probes of {proto.probe_speech_s} s")
    return cohort, enrol, probes


def prepare(encoder: SegmentEncoder, speakers: Mapping[str, Sequence[Path]], proto: Protocol,
            progress: Progress | None = None) -> TrialSet:
    """Cut every speaker's audio per the protocol and embed all pieces."""
    if len(speakers) < 2:
        raise DatasetError(Path("."), f"calibration needs at least 2 speakers, got {len(speakers)}")
    rng = np.random.default_rng(proto.seed)
    pieces: dict[str, list[tuple[str, Piece]]] = {"cohort": [], "enrol": [], "probe": []}
    for n, (speaker, files) in enumerate(sorted(speakers.items())):
        for pool, cut in zip(pieces.values(), _cut(speaker, files, proto, rng), strict=True):
            pool.extend((speaker, piece) for piece in cut)
        if progress:
            progress("reading audio", n + 1, len(speakers))
    total = sum(len(v) for v in pieces.values())
    done = 0

    def relay(stage: str, i: int, _n: int) -> None:
        if progress:
            progress("embedding", done + i, total)

    labeled = {}
    for name, items in pieces.items():
        labeled[name] = Labeled([s for s, _ in items], encoder.embed_all([p for _, p in items], name, relay))
        done += len(items)
    return TrialSet(labeled["enrol"], labeled["probe"], labeled["cohort"], encoder.model)


def calibrate(encoder: SegmentEncoder, speakers: Mapping[str, Sequence[Path]], proto: Protocol, norm: Norm,
              target_far: float = 0.01, progress: Progress | None = None) -> tuple[Calibration, Cohort]:
    """Run the protocol; return the calibration and the cohort (all speakers' cohort pools)."""
    ts = prepare(encoder, speakers, proto, progress)
    target, nontarget = split_scores(ts, score_matrix(ts, norm, proto.top_k, proto.seed))
    counts = {"pooling": encoder.pooling, "speakers": len(speakers), "enrollments": len(ts.models),
              "probes": len(ts.probes), "cohort_entries": len(ts.cohort), "target_trials": int(target.size),
              "nontarget_trials": int(nontarget.size)}
    cal = calibrate_scores(target, nontarget, ts.model, norm, target_far, {**proto.describe(), **counts})
    return cal, Cohort(ts.cohort.vectors, ts.cohort.speakers, ts.model)
