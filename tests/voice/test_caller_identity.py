"""Caller numbers come from P-Asserted-Identity, else From, normalized to E.164 (default region UA)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.net import free_port
from tests.support.server import ServerHandle, start_server

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture(scope="module")
def sip_server(tmp_path_factory) -> ServerHandle:
    handle = start_server(tmp_path_factory.mktemp("ident"), {"asr": {"enabled": False}, "media": {"greeting": None}})
    yield handle
    handle.stop()


def sipp_pai_call(server: ServerHandle, tmp_path: Path, pai_user: str, called: str) -> None:
    inj = tmp_path / "fields.csv"
    inj.write_text(f"SEQUENTIAL\n{pai_user};{called}\n")
    proc = subprocess.run(
        ["sipp", "-sf", str(SCENARIOS / "uac_pai.xml"), "-inf", str(inj), "-i", "127.0.0.1", "-p", str(free_port()),
         "-m", "1", "-timeout", "20", "-timeout_error", f"127.0.0.1:{server.sip_port}"],
        capture_output=True, text=True, errors="replace", timeout=60, cwd=tmp_path,
    )
    assert proc.returncode == 0, f"sipp failed:\n{proc.stdout[-2000:]}\n{server.log()[-3000:]}"


@pytest.mark.parametrize(
    ("pai_user", "expected"),
    [("0441234567", "+380441234567"), ("+14155550123", "+14155550123"), ("00380501234567", "+380501234567")],
)
def test_number_from_p_asserted_identity(sip_server, tmp_path, pai_user, expected):
    suffix = f"{len(pai_user):02d}{sum(map(ord, pai_user)) % 1000:03d}"
    called = f"04412{suffix}"  # a national DID, stored as E.164 too
    sipp_pai_call(sip_server, tmp_path, pai_user, called)
    with sip_server.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500, "number": f"+3804412{suffix}"}).json()["calls"]
    assert len(calls) == 1
    assert calls[0]["called_number"] == f"+3804412{suffix}"
    assert calls[0]["caller_number"] == expected
