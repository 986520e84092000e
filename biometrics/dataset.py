"""Finding speakers' audio files: one folder per speaker, or a flat folder with a file-name pattern."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from biometrics.errors import DatasetError

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg"})
FSDD_PATTERN = "{digit}_{speaker}_{index}.wav"


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``'{digit}_{speaker}_{index}.wav'``-style patterns; ``{speaker}`` is required."""
    if "{speaker}" not in pattern:
        raise ValueError(f"file-name pattern {pattern!r} has no {{speaker}} field")
    parts = re.split(r"(\{[a-zA-Z_]\w*\})", pattern)
    out = []
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            out.append(f"(?P<{name}>[^/]+)" if name == "speaker" else r"[^/]+?")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def _natural(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def speaker_files(root: Path, flat_pattern: str | None = None) -> dict[str, list[Path]]:
    """Map speaker -> audio files (sorted naturally).

    Without ``flat_pattern``: every sub-directory of ``root`` holding audio is one speaker (files found
    recursively). With it: the audio files directly in ``root`` are grouped by the ``{speaker}`` field.
    """
    if not root.is_dir():
        raise DatasetError(root, "not a directory")
    speakers: dict[str, list[Path]] = {}
    if flat_pattern is not None:
        regex = pattern_regex(flat_pattern)
        for f in root.iterdir():
            m = regex.fullmatch(f.name)
            if m and f.is_file():
                speakers.setdefault(m.group("speaker"), []).append(f)
    else:
        for d in sorted(p for p in root.iterdir() if p.is_dir()):
            files = [f for f in d.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES and f.is_file()]
            if files:
                speakers[d.name] = files
    if not speakers:
        how = f"no file matches {flat_pattern!r}" if flat_pattern else "no speaker sub-directory with audio"
        raise DatasetError(root, how)
    return {spk: sorted(files, key=_natural) for spk, files in sorted(speakers.items())}


SPLITS = ("tune", "cohort", "eval")


def split_speakers(speakers: Sequence[str], seed: int, shares: tuple[float, float] = (0.5, 0.25)
                   ) -> dict[str, list[str]]:
    """Speakers (never files) into disjoint ``tune`` / ``cohort`` / ``eval`` lists with a fixed seed.

    ``shares`` are the tune and cohort fractions; eval gets the rest. Names are sorted before shuffling,
    so the split depends only on the set of names and the seed.
    """
    if shares[0] <= 0 or shares[1] <= 0 or sum(shares) >= 1:
        raise ValueError(f"tune and cohort shares {shares} must be positive and leave speakers for eval")
    names = sorted(set(speakers))
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_tune, n_cohort = round(shares[0] * len(order)), round(shares[1] * len(order))
    if min(n_tune, n_cohort, len(order) - n_tune - n_cohort) < 1:
        raise DatasetError(Path("."), f"{len(order)} speakers are too few to split three ways")
    return {"tune": sorted(order[:n_tune]), "cohort": sorted(order[n_tune : n_tune + n_cohort]),
            "eval": sorted(order[n_tune + n_cohort :])}
