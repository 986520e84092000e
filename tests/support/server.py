"""Run a real ``hotline serve`` process for tests, with its own ports and database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.net import free_port, free_range

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = [sys.executable, "-m", "hotline"]
# Servers that test the media and recognition path without agents: with routing on, a caller who hangs up
# before any agent answers is (rightly) recorded as "abandoned"; these tests expect "caller_hangup".
NO_AGENTS: dict[str, Any] = {"routing": {"enabled": False}}


def run_cli(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the hotline CLI."""
    proc = subprocess.run([*HOTLINE, *args], capture_output=True, text=True, errors="replace", timeout=timeout,
                          cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"hotline {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class ServerHandle:
    """A running server."""

    workdir: Path
    sip_port: int
    http_port: int
    rtp: tuple[int, int]
    db_url: str
    key: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def http(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sip_uri(self) -> str:
        """Where to call."""
        return f"sip:service@127.0.0.1:{self.sip_port}"

    def client(self, key: str | None = None) -> httpx.Client:
        """An authenticated HTTP client."""
        return httpx.Client(base_url=self.http, headers={"Authorization": f"Bearer {key or self.key}"}, timeout=30)

    def log(self) -> str:
        """Everything the server printed."""
        return self.log_path.read_text(errors="replace")

    def wait_call_ended(self, call_id: str | None = None, timeout: float = 120, count: int = 1) -> list[dict[str, Any]]:
        """Wait until ``count`` calls (or the given one) have ended; returns them."""
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while time.monotonic() < deadline:
                if call_id is not None:
                    r = c.get(f"/api/v1/calls/{call_id}")
                    if r.status_code == 200 and r.json()["state"] == "ended":
                        return [r.json()]
                else:
                    r = c.get("/api/v1/calls", params={"limit": 500})
                    assert r.status_code == 200, f"GET /api/v1/calls: {r.status_code} {r.text}"
                    calls = r.json()["calls"]
                    ended = [x for x in calls if x["state"] == "ended"]
                    if len(ended) >= count:
                        return ended
                time.sleep(0.2)
        raise AssertionError(f"calls did not end within {timeout} s\n--- server log ---\n{self.log()[-5000:]}")

    def stop(self) -> int:
        """SIGINT (a clean shut-down) and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def start_server(workdir: Path, config: dict[str, Any] | None = None, role: str = "admin") -> ServerHandle:
    """Start ``hotline serve`` with free ports and a fresh SQLite database under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    sip_port, http_port = free_port(), free_port()
    rtp = free_range(40)
    db_url = f"sqlite:///{workdir / 'hotline.db'}"
    cfg: dict[str, Any] = {
        "sip": {"host": "127.0.0.1", "port": sip_port},
        "http": {"host": "127.0.0.1", "port": http_port},
        "media": {"rtp_port_min": rtp[0], "rtp_port_max": rtp[1], "record_dir": str(workdir / "rec")},
        "store": {"url": db_url, "spill_path": str(workdir / "store-backlog.json")},
        "log": {"level": "INFO"},
    }
    for section, values in (config or {}).items():
        cfg.setdefault(section, {}).update(values)
    db_url = cfg["store"]["url"]
    cfg_path = workdir / "hotline.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    key = run_cli("keys", "create", "--role", role, "--db", db_url).stdout.strip().splitlines()[-1]
    log_path = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*HOTLINE, "serve", "--config", str(cfg_path)], stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT, env=env)
    handle = ServerHandle(workdir, sip_port, http_port, rtp, db_url, key, proc, log_path, {"config": cfg})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{handle.log()}")
        try:
            if httpx.get(f"{handle.http}/health", timeout=1).status_code == 200:
                return handle
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    handle.stop()
    raise AssertionError(f"server did not become healthy:\n{handle.log()}")


def phone_call(uri: str, play: Path, *extra: str, timeout: float = 90) -> dict[str, Any]:
    """Place a call with ``hotline phone call --json`` and return its outcome."""
    proc = run_cli("phone", "call", uri, "--play", str(play), "--json", *extra, timeout=timeout, check=False)
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"phone printed nothing (rc {proc.returncode}):\n{proc.stderr}")
    return dict(json.loads(lines[-1]))
