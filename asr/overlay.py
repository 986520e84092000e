"""Model overlays: the same model files with adjusted feature settings.

Kaldi dithers features with random noise unless ``--dither=0``; most published
Vosk models leave it on, so decoding the same audio twice can give different
words. An overlay is a directory of symlinks to the model plus a rewritten
``conf/mfcc.conf``, so the model itself is never modified.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class OverlayError(OSError):
    """An overlay directory cannot be created."""

    def __init__(self, model: Path, target: Path, reason: str) -> None:
        super().__init__(f"cannot build model overlay for {model} in {target}: {reason}")
        self.model = model
        self.target = target
        self.reason = reason


def _with_dither(conf: str, dither: float) -> str:
    lines = [ln for ln in conf.splitlines() if not ln.strip().startswith("--dither")]
    return "\n".join([*lines, f"--dither={dither:g}"]) + "\n"


def with_dither(model: Path, dither: float, work_dir: Path) -> Path:
    """A model directory whose MFCC dither is ``dither``; ``model`` itself when it already is."""
    mfcc = model / "conf" / "mfcc.conf"
    if not mfcc.is_file():
        return model
    conf = mfcc.read_text()
    wanted = _with_dither(conf, dither)
    if conf == wanted:
        return model
    key = hashlib.sha1(f"{model.resolve()}|{dither}".encode()).hexdigest()[:16]
    target = work_dir / f"{model.name}-dither{dither:g}-{key}"
    try:
        (target / "conf").mkdir(parents=True, exist_ok=True)
        for entry in model.iterdir():
            if entry.name == "conf":
                continue
            link = target / entry.name
            if not link.exists():
                os.symlink(entry.resolve(), link)
        for entry in (model / "conf").iterdir():
            link = target / "conf" / entry.name
            if entry.name == "mfcc.conf":
                tmp = link.with_suffix(".tmp")
                tmp.write_text(wanted)
                tmp.replace(link)
            elif not link.exists():
                os.symlink(entry.resolve(), link)
    except OSError as exc:
        raise OverlayError(model, target, exc.strerror or str(exc)) from exc
    return target
