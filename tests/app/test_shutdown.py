"""Stopping the server (SIGTERM from systemd or docker, SIGINT from a terminal) ends calls cleanly first."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from store.store import Store
from tests.support.server import NO_AGENTS, ServerHandle, phone_call, start_server


def _wait_connected(server: ServerHandle, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.client() as c:
            calls = c.get("/api/v1/calls", params={"limit": 1}).json()["calls"]
        if calls and calls[0]["state"] == "connected":
            return str(calls[0]["id"])
        time.sleep(0.1)
    raise AssertionError(f"no connected call within {timeout} s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_hangs_up_active_calls_and_stores_how_they_ended(sig: signal.Signals, tmp_path: Path,
                                                                      speech_dir: Path):
    server = start_server(tmp_path / "srv", NO_AGENTS)
    try:
        with ThreadPoolExecutor(1) as pool:
            placed = pool.submit(phone_call, server.sip_uri, speech_dir / "ko_two_8k.wav", "--tail", "60",
                                 "--hangup-after", "60")
            call_id = _wait_connected(server)
            server.proc.send_signal(sig)
            rc = server.proc.wait(30)
            outcome = placed.result(60)
    finally:
        server.stop()
    assert rc == 0, server.log()[-3000:]
    assert outcome["status"] == 200 and outcome["hangup_by"] == "remote", outcome  # Hotline sent the BYE
    assert f"{sig.name}: shutting down" in server.log()
    store = Store(server.db_url)
    try:
        call = store.calls.get(call_id)
    finally:
        store.close()
    assert call is not None and call.state == "ended" and call.end_reason == "shutdown"
    assert call.ended_at is not None
