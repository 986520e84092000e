"""Impostor cohorts: embeddings of speakers who are neither the customer nor the caller.

A cohort file is an ``.npz`` (no pickles) with ``embeddings`` (n x dim float32, L2-normalised),
``speakers`` (n labels), ``model_id`` and ``version`` (the :class:`SegmentEncoder` tag, pooling
included). Each entry embeds at least ``entry_speech_s`` of one speaker's speech segments, so cohort
scores behave like enrolment/probe scores of similar length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from biometrics.errors import CohortError
from biometrics.pooling import Progress, SegmentEncoder
from biometrics.speech import group_segments, load_speech
from biometrics.voiceprint import ModelTag, l2_normalize, require_same_model
from media.frame import Pcm


@dataclass(frozen=True, eq=False)
class Cohort:
    """Cohort embeddings (rows), who spoke each one, and the model that made them."""

    embeddings: npt.NDArray[np.float32]
    speakers: list[str]
    model: ModelTag

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])

    def subset(self, keep: npt.NDArray[np.bool_]) -> Cohort:
        """The rows where ``keep`` is true."""
        return Cohort(self.embeddings[keep], [s for s, k in zip(self.speakers, keep, strict=True) if k], self.model)

    def save(self, path: Path) -> None:
        """Write as ``.npz`` (parent directories are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez(fh, embeddings=self.embeddings.astype(np.float32), speakers=np.array(self.speakers, dtype=str),
                     model_id=np.array(self.model.model_id), version=np.array(self.model.version))


def load_cohort(path: Path, expected: ModelTag | None = None) -> Cohort:
    """Read a cohort file; with ``expected``, refuse one made by another model."""
    try:
        with np.load(path, allow_pickle=False) as data:
            emb = np.asarray(data["embeddings"], dtype=np.float32)
            speakers = [str(s) for s in data["speakers"]]
            tag = ModelTag(str(data["model_id"]), str(data["version"]))
    except (OSError, KeyError, ValueError) as exc:
        raise CohortError(path, f"cannot read cohort file ({exc})") from exc
    if emb.ndim != 2 or emb.shape[0] != len(speakers) or emb.shape[0] == 0:
        raise CohortError(path, f"malformed: embeddings {emb.shape}, {len(speakers)} speaker labels")
    if expected is not None:
        require_same_model(expected, tag, "cohort")
    return Cohort(l2_normalize(emb), speakers, tag)


def cohort_from_speech(encoder: SegmentEncoder, speech: Sequence[tuple[str, list[Pcm]]],
                       progress: Progress | None = None) -> Cohort:
    """Embed ready-made (speaker, segments) pieces into a cohort."""
    if not speech:
        raise CohortError(None, "no speech to build a cohort from")
    rows = encoder.embed_all([segments for _, segments in speech], "cohort", progress)
    return Cohort(rows, [s for s, _ in speech], encoder.model)


def cohort_pieces(speakers: Mapping[str, Sequence[Path]], entry_speech_s: float, aggressiveness: int = 2,
                  padding_ms: int = 90) -> list[tuple[str, list[Pcm]]]:
    """Each speaker's speech segments (files in order) grouped into entries of ``entry_speech_s``."""
    out: list[tuple[str, list[Pcm]]] = []
    for speaker, files in speakers.items():
        segments = [seg for f in files for seg in load_speech(f, aggressiveness, padding_ms).segments]
        out.extend((speaker, group) for group in group_segments(segments, entry_speech_s))
    return out


def build_cohort(encoder: SegmentEncoder, speakers: Mapping[str, Sequence[Path]], entry_speech_s: float = 3.0,
                 aggressiveness: int = 2, padding_ms: int = 90, progress: Progress | None = None) -> Cohort:
    """Cohort from audio files grouped by speaker (see :func:`biometrics.dataset.speaker_files`)."""
    return cohort_from_speech(encoder, cohort_pieces(speakers, entry_speech_s, aggressiveness, padding_ms), progress)
