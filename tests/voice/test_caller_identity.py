"""Caller numbers come from P-Asserted-Identity, else From, normalized to E.164 (default region UA); PAI counts
only from a trusted peer (``sip.trusted_peers``), and any other source's number is unverified."""

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


def sipp_pai_call(server: ServerHandle, tmp_path: Path, pai_user: str, called: str, source: str = "127.0.0.1") -> None:
    inj = tmp_path / "fields.csv"
    inj.write_text(f"SEQUENTIAL\n{pai_user};{called}\n")
    proc = subprocess.run(
        ["sipp", "-sf", str(SCENARIOS / "uac_pai.xml"), "-inf", str(inj), "-i", source, "-p", str(free_port()),
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


def test_trusted_peers_are_addresses_or_networks():
    from voice.settings import SipSettings

    s = SipSettings(trusted_peers=["10.1.2.0/24", "192.0.2.7", "2001:db8::/32"])
    assert s.trusts("10.1.2.200") and s.trusts("192.0.2.7") and s.trusts("2001:db8::1")
    assert not s.trusts("10.1.3.1") and not s.trusts("192.0.2.8") and not s.trusts("not-an-ip")
    assert SipSettings().trusts("127.0.0.1") and not SipSettings().trusts("127.0.0.2")  # only this host
    assert s.trusts("[2001:db8::1]") and SipSettings().trusts("[::1]")  # as SIP over TCP writes IPv6 sources
    with pytest.raises(ValueError, match="not an address or network"):
        SipSettings(trusted_peers=["10.0.0.0/33"])


def test_p_asserted_identity_from_an_untrusted_peer_is_not_believed(sip_server, tmp_path):
    """127.0.0.2 is not a trusted peer: its PAI number is ignored, and the anonymous From is unverified."""
    sipp_pai_call(sip_server, tmp_path, "+380671112233", "0441299999", source="127.0.0.2")
    with sip_server.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500, "number": "+380441299999"}).json()["calls"]
    assert len(calls) == 1
    assert calls[0]["caller_number"] == "anonymous" and calls[0]["number_trust"] == "unverified"
    sipp_pai_call(sip_server, tmp_path, "+380671112233", "0441299998")  # the same PAI from this host
    with sip_server.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500, "number": "+380441299998"}).json()["calls"]
    assert calls[0]["caller_number"] == "+380671112233" and calls[0]["number_trust"] == "asserted"
