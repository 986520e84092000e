"""Finding speakers' files."""

from __future__ import annotations

from pathlib import Path

import pytest

from biometrics.dataset import FSDD_PATTERN, pattern_regex, speaker_files
from biometrics.errors import DatasetError
from tests.biometrics.conftest import FSDD


def test_flat_fsdd_layout() -> None:
    speakers = speaker_files(FSDD, FSDD_PATTERN)
    assert sorted(speakers) == ["george", "jackson", "lucas"]
    assert all(len(v) == 40 for v in speakers.values())
    assert [p.name for p in speakers["george"][:5]] == [f"0_george_{i}.wav" for i in range(4)] + ["1_george_0.wav"]


def test_folder_per_speaker(tmp_path: Path) -> None:
    for spk in ("alice", "bob"):
        (tmp_path / spk / "s1").mkdir(parents=True)
        (tmp_path / spk / "s1" / "a10.wav").write_bytes(b"")
        (tmp_path / spk / "a2.flac").write_bytes(b"")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("")
    speakers = speaker_files(tmp_path)
    assert sorted(speakers) == ["alice", "bob"]
    assert [p.name for p in speakers["alice"]] == ["a2.flac", "a10.wav"]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as exc:
        speaker_files(tmp_path / "nope")
    assert exc.value.reason == "not a directory"
    with pytest.raises(DatasetError, match="no speaker"):
        speaker_files(tmp_path)
    with pytest.raises(DatasetError, match="no file matches"):
        speaker_files(tmp_path, FSDD_PATTERN)
    with pytest.raises(ValueError, match="speaker"):
        pattern_regex("{digit}_{index}.wav")
    m = pattern_regex("call-{speaker}-{n}.wav").fullmatch("call-ann-lee-3.wav")
    assert m is not None and m.group("speaker") == "ann-lee"


def test_speakers_are_split_three_ways_by_speaker_with_a_fixed_seed() -> None:
    from biometrics.dataset import split_speakers

    names = [f"s{i:03d}" for i in range(126)]
    split = split_speakers(names, seed=7)
    assert [len(split[k]) for k in ("tune", "cohort", "eval")] == [63, 32, 31]
    assert set(split["tune"]) | set(split["cohort"]) | set(split["eval"]) == set(names)
    assert not set(split["tune"]) & set(split["eval"]) and not set(split["cohort"]) & set(split["eval"])
    assert split_speakers(list(reversed(names)), seed=7) == split  # order of the input does not matter
    assert split_speakers(names, seed=8) != split
    with pytest.raises(DatasetError):
        split_speakers(["a", "b"], seed=0)
    with pytest.raises(ValueError):
        split_speakers(names, seed=0, shares=(0.7, 0.3))
