"""``hotline voiceprint calibrate`` on the fixture recordings."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from biometrics.cohort import load_cohort
from hotline.cli_voiceprint import app
from tests.biometrics.conftest import FSDD


def test_calibrate_fixture_dir(tmp_path: Path) -> None:
    out = tmp_path / "cal.json"
    args = ["calibrate", str(FSDD), "--fsdd", "--norm", "snorm", "--out", str(out), "--enroll-s", "4",
            "--probe-s", "2", "--enrollments", "1", "--cohort-entry-s", "2", "--seed", "3", "--channel", "PCMU"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "EER" in result.output and "FRR" in result.output
    cal = json.loads(out.read_text())
    assert cal["model_id"] == "resemblyzer-ge2e" and cal["norm"] == "snorm" and cal["target_far"] == 0.01
    assert 0 <= cal["eer"] <= 0.5 and cal["protocol"]["speakers"] == 3 and cal["protocol"]["seed"] == 3
    assert cal["protocol"]["channel"] == "PCMU" and cal["margin"] >= 0
    cohort = load_cohort(tmp_path / "cal-cohort.npz")
    assert set(cohort.speakers) == {"george", "jackson", "lucas"}


def test_calibrate_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["calibrate", str(tmp_path), "--out", str(tmp_path / "c.json")])
    assert result.exit_code == 1 and "no speaker sub-directory" in result.output
    result = CliRunner().invoke(app, ["calibrate", str(FSDD), "--flat-pattern", "{digit}_{index}.wav"])
    assert result.exit_code == 1 and "speaker" in result.output
    result = CliRunner().invoke(app, ["calibrate", str(FSDD), "--fsdd", "--channel", "GSM"])
    assert result.exit_code == 2 and "--channel must be none, PCMU or PCMA" in result.output
