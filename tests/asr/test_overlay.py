"""Model overlays with a fixed MFCC dither."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.overlay import with_dither

MFCC = "--use-energy=false\n--sample-frequency=16000\n--num-ceps=40\n"


def _model(root: Path, mfcc: str | None = MFCC, name: str = "vosk-model-fake") -> Path:
    model = root / name
    (model / "am").mkdir(parents=True)
    (model / "am" / "final.mdl").write_bytes(b"acoustic")
    (model / "graph").mkdir()
    (model / "graph" / "HCLG.fst").write_bytes(b"graph")
    (model / "README").write_text("fake model\n")
    (model / "conf").mkdir()
    (model / "conf" / "model.conf").write_text("--min-active=200\n")
    if mfcc is not None:
        (model / "conf" / "mfcc.conf").write_text(mfcc)
    return model


def _snapshot(d: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for p in sorted(d.rglob("*")):
        rel = str(p.relative_to(d))
        out[rel] = f"-> {p.readlink()}" if p.is_symlink() else (p.read_bytes() if p.is_file() else "<dir>")
    return out


def test_overlay_sets_dither_zero_and_links_the_rest(tmp_path):
    model = _model(tmp_path / "models")
    before = _snapshot(model)
    work = tmp_path / "overlays"
    out = with_dither(model, 0.0, work)
    assert out != model
    assert out.parent == work
    assert out.name.startswith("vosk-model-fake-dither0-")
    conf = (out / "conf" / "mfcc.conf").read_text()
    assert conf == MFCC + "--dither=0\n"
    assert conf.splitlines()[-1] == "--dither=0"
    assert not (out / "conf" / "mfcc.conf").is_symlink()
    for rel in ("am", "graph", "README", "conf/model.conf"):
        link = out / rel
        assert link.is_symlink(), rel
        assert link.resolve() == (model / rel).resolve(), rel
    assert (out / "am" / "final.mdl").read_bytes() == b"acoustic"
    assert not (out / "conf").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == ["README", "am", "conf", "graph"]
    assert sorted(p.name for p in (out / "conf").iterdir()) == ["mfcc.conf", "model.conf"]  # no temp file left
    assert _snapshot(model) == before  # the original is untouched


def test_existing_dither_line_is_replaced(tmp_path):
    model = _model(tmp_path, "--dither=1.0\n" + MFCC)
    out = with_dither(model, 0.0, tmp_path / "ov")
    lines = (out / "conf" / "mfcc.conf").read_text().splitlines()
    assert [ln for ln in lines if ln.startswith("--dither")] == ["--dither=0"]
    assert lines == [*MFCC.splitlines(), "--dither=0"]
    assert (model / "conf" / "mfcc.conf").read_text() == "--dither=1.0\n" + MFCC


def test_model_already_at_dither_zero_is_returned_as_is(tmp_path):
    model = _model(tmp_path, MFCC + "--dither=0\n")
    work = tmp_path / "ov"
    assert with_dither(model, 0.0, work) == model
    assert not work.exists()


def test_calling_twice_is_idempotent(tmp_path):
    model = _model(tmp_path / "m")
    work = tmp_path / "ov"
    first = with_dither(model, 0.0, work)
    snap = _snapshot(first)
    second = with_dither(model, 0.0, work)
    assert second == first
    assert _snapshot(second) == snap
    assert [p.name for p in work.iterdir()] == [first.name]


def test_other_dither_values_get_their_own_overlay(tmp_path):
    model = _model(tmp_path / "m")
    work = tmp_path / "ov"
    zero, half = with_dither(model, 0.0, work), with_dither(model, 0.5, work)
    assert zero != half
    assert (half / "conf" / "mfcc.conf").read_text().endswith("--dither=0.5\n")
    assert (zero / "conf" / "mfcc.conf").read_text().endswith("--dither=0\n")


@pytest.mark.parametrize("with_conf_dir", [True, False])
def test_model_without_mfcc_conf_is_returned_as_is(tmp_path, with_conf_dir):
    model = _model(tmp_path / "m", mfcc=None)
    if not with_conf_dir:
        (model / "conf" / "model.conf").unlink()
        (model / "conf").rmdir()
    work = tmp_path / "ov"
    assert with_dither(model, 0.0, work) == model
    assert not work.exists()
