"""End-to-end tests of ``hotline phone call`` against a real sipp UAS on loopback."""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.net import free_port

SCENARIOS = Path(__file__).parent / "scenarios"


def _wait_bound(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 5.0) -> None:
    """Wait until something (sipp) holds UDP ``port`` on 127.0.0.1."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert proc.poll() is None, "sipp exited early"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return
                raise
        time.sleep(0.05)
    raise AssertionError(f"sipp did not bind UDP port {port}")


@pytest.fixture
def sipp_uas() -> Iterator[object]:
    """Start sipp UAS processes on free ports; yields a starter returning the SIP port."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*scenario: str) -> int:
        port = free_port(both=False)
        cmd = ["sipp", *scenario, "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_port(both=False))]
        cmd += ["-m", "1", "-timeout", "20", "-nostdin"]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        _wait_bound(port, proc)
        return port

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=5)


def _phone(*args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from hotline.cli import main; main()", "phone", "call", *args]
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout, check=False)


def _last_json(stdout: str) -> dict[str, object]:
    lines = stdout.strip().splitlines()
    assert lines, "no stdout"
    return json.loads(lines[-1])


def test_answered_call_is_hung_up_locally(sipp_uas, tone: Path) -> None:
    port = sipp_uas("-sn", "uas")
    started = time.monotonic()
    res = _phone(f"sip:test@127.0.0.1:{port}", "--play", str(tone), "--json", "--tail", "0.5", "--timeout", "10")
    assert res.returncode == 0, res.stderr
    out = _last_json(res.stdout)
    assert out["status"] == 200
    assert out["hangup_by"] == "local"
    assert out["codec"] == "PCMU"
    assert out["call_id"]
    assert 0.9 <= float(out["played_s"]) <= 1.1  # type: ignore[arg-type]
    assert float(out["duration_s"]) >= 1.4  # type: ignore[arg-type]  # file + tail
    assert time.monotonic() - started < 15


def test_record_captures_echoed_audio(sipp_uas, tone: Path, tmp_path: Path) -> None:
    port = sipp_uas("-sn", "uas", "-rtp_echo")
    rec = tmp_path / "heard.wav"
    res = _phone(f"sip:test@127.0.0.1:{port}", "--play", str(tone), "--record", str(rec), "--json", "--tail", "0.5")
    assert res.returncode == 0, res.stderr
    assert _last_json(res.stdout)["status"] == 200
    heard, rate = sf.read(rec)
    assert rate == 8000
    loud = np.abs(heard) > 0.1
    assert loud.sum() / rate > 0.8, "the echoed tone should be in the recording"


def test_non_audio_file_is_a_clean_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not audio\n")
    res = _phone("sip:test@127.0.0.1:5999", "--play", str(bogus), "--json")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr + res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot read audio file {bogus}")


def test_busy_is_reported_as_486(sipp_uas, tone: Path) -> None:
    port = sipp_uas("-sf", str(SCENARIOS / "uas_busy.xml"))
    res = _phone(f"sip:test@127.0.0.1:{port}", "--play", str(tone), "--json", "--timeout", "10")
    assert res.returncode == 1, res.stderr
    out = _last_json(res.stdout)
    assert out["status"] == 486
    assert out["reason"] == "Busy Here"
    assert out["hangup_by"] is None
    assert out["setup_ms"] is None
