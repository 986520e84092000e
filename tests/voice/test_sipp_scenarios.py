"""A real ``hotline serve`` driven by sipp: SIP scenarios over UDP and TCP, RTP streams, hostile input.

Every scenario lives in ``tests/voice/scenarios/sipp_*.xml``. sipp exits 0 only when all its calls
succeeded, and any message a scenario does not expect fails the call, so ``returncode == 0`` also means
"no unexpected messages"; the statistics file is checked for that too. Calls are found in the API by
their SIP Call-ID, which each run sets with ``-cid_str``.
"""

from __future__ import annotations

import contextlib
import csv
import random
import re
import shutil
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from media import g711
from media.codecs import decoder_for
from tests.support.net import closed_by_peer, free_port, port_region
from tests.support.server import NO_AGENTS, ServerHandle, start_server

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SIPP = shutil.which("sipp")

RING_MS = 3000
STREAM_S = 2.0  # length of the audio sipp streams in the RTP call
FRAME = 320  # samples per 20 ms frame at 16 kHz (the recorder's rate)


# -- servers --------------------------------------------------------------------
@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """Answers at once, no recognition, records the caller leg."""
    handle = start_server(tmp_path_factory.mktemp("sipp-fast"),
                          {"asr": {"enabled": False}, "media": {"record_calls": True}, **NO_AGENTS})
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def ringing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """Rings 3 s before answering and takes one call at a time."""
    handle = start_server(tmp_path_factory.mktemp("sipp-ring"),
                          {"asr": {"enabled": False}, "sip": {"ring_ms": RING_MS, "max_calls": 1}, **NO_AGENTS})
    yield handle
    handle.stop()


# -- running sipp -----------------------------------------------------------------
def free_media_port() -> int:
    """An even UDP port with the next three free too (sipp's audio RTP/RTCP and video ports)."""
    for _ in range(100):
        low, high = port_region()
        base = random.randrange(low + (low % 2), high - 4, 2)
        socks: list[socket.socket] = []
        try:
            for p in range(base, base + 4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base
    raise RuntimeError("no free media port for sipp")


@dataclass
class Sipp:
    """One sipp process placing calls from a scenario of ``tests/voice/scenarios``."""

    server: ServerHandle
    scenario: str
    workdir: Path
    proc: subprocess.Popen[str]
    cid: str
    stdout: str = ""
    stderr: str = ""

    @classmethod
    def start(cls, server: ServerHandle, scenario: str, workdir: Path, *args: str, transport: str = "u1",
              calls: int = 1, pause_ms: int | None = None, files: dict[str, bytes] | None = None) -> Sipp:
        """Start sipp against ``server`` in a fresh working directory under ``workdir`` holding ``files``."""
        assert SIPP is not None
        cid = uuid.uuid4().hex[:12]
        cwd = workdir / f"sipp-{scenario}-{cid}"
        cwd.mkdir(parents=True)
        for name, data in (files or {}).items():
            (cwd / name).write_bytes(data)
        cmd = [SIPP, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-t", transport,
               "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_media_port()),
               "-m", str(calls), "-l", str(calls), "-timeout", "30", "-timeout_error", "-nostdin",
               "-trace_err", "-trace_stat", "-stf", "stat.csv", "-cid_str", f"{cid}-%u@%s"]
        if pause_ms is not None:
            cmd += ["-d", str(pause_ms)]
        cmd += [*args, f"127.0.0.1:{server.sip_port}"]
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="replace")
        return cls(server, scenario, cwd, proc, cid)

    def sip_call_id(self, n: int = 1) -> str:
        """The Call-ID of call ``n`` (sipp counts from 1)."""
        return f"{self.cid}-{n}@127.0.0.1"

    def wait(self, timeout: float = 45) -> int:
        """Wait for sipp to exit; returns its exit code."""
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.stdout, self.stderr = self.proc.communicate()
        return self.proc.returncode

    def kill(self) -> None:
        """Stop sipp if it still runs (test clean-up)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def stats(self) -> dict[str, str]:
        """The last row of sipp's statistics file (cumulative counters end in ``(C)``)."""
        path = self.workdir / "stat.csv"
        if not path.exists():
            return {}
        rows = [r for r in csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";") if r]
        return dict(zip(rows[0], rows[-1], strict=False)) if len(rows) >= 2 else {}

    def report(self) -> str:
        """Everything useful when a run failed: sipp's output, its error log, the server log tail."""
        errors = "".join(p.read_text(errors="replace")[-6000:] for p in self.workdir.glob("*_errors.log"))
        return (f"sipp {self.scenario} rc={self.proc.returncode}\n--- stdout ---\n{self.stdout[-3000:]}\n"
                f"--- stderr ---\n{self.stderr[-2000:]}\n--- errors.log ---\n{errors or '(none)'}\n"
                f"--- server log (tail) ---\n{self.server.log()[-6000:]}")

    def assert_ok(self, calls: int = 1) -> None:
        """Exit code 0, and the statistics say every call succeeded without unexpected messages."""
        if self.proc.returncode is None:
            self.wait()
        assert self.proc.returncode == 0, self.report()
        st = self.stats()
        assert st, f"no statistics file\n{self.report()}"
        counters = {k: st.get(k) for k in ("SuccessfulCall(C)", "FailedCall(C)", "FailedUnexpectedMessage(C)")}
        assert counters == {"SuccessfulCall(C)": str(calls), "FailedCall(C)": "0",
                            "FailedUnexpectedMessage(C)": "0"}, f"{counters}\n{self.report()}"


def run_sipp(server: ServerHandle, scenario: str, workdir: Path, *args: str, **kw: Any) -> Sipp:
    """Run sipp to the end."""
    sipp = Sipp.start(server, scenario, workdir, *args, **kw)
    sipp.wait()
    return sipp


# -- the API --------------------------------------------------------------------------
def call_by_sip_id(server: ServerHandle, sip_call_id: str, timeout: float = 10) -> dict[str, Any] | None:
    """The stored call with this SIP Call-ID (waits up to ``timeout`` for it to appear), or None."""
    deadline = time.monotonic() + timeout
    with server.client() as c:
        while True:
            calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
            match = [x for x in calls if x["sip_call_id"] == sip_call_id]
            assert len(match) <= 1, f"several calls stored for {sip_call_id}: {match}"
            if match or time.monotonic() > deadline:
                return match[0] if match else None
            time.sleep(0.1)


def ended_call(server: ServerHandle, sip_call_id: str) -> dict[str, Any]:
    """The stored call once it has ended, with its timeline."""
    call = call_by_sip_id(server, sip_call_id)
    assert call is not None, f"no call stored for {sip_call_id}\n{server.log()[-4000:]}"
    server.wait_call_ended(call["id"], timeout=30)
    with server.client() as c:
        full: dict[str, Any] = c.get(f"/api/v1/calls/{call['id']}").json()
    return full


def wait_state(server: ServerHandle, sip_call_id: str, states: tuple[str, ...], timeout: float = 10) -> dict:
    """Wait until the stored call is in one of ``states``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call = call_by_sip_id(server, sip_call_id, timeout=0)
        if call is not None and call["state"] in states:
            return call
        time.sleep(0.05)
    raise AssertionError(f"call {sip_call_id} never reached {states}\n{server.log()[-4000:]}")


def _refused_busy(sipp: Sipp) -> bool:
    """sipp failed because the server answered 503."""
    return any("503 Service Unavailable" in p.read_text(errors="replace") for p in sipp.workdir.glob("*_errors.log"))


# -- 1. OPTIONS ------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
def test_options_gets_200(fast: ServerHandle, tmp_path: Path, transport: str) -> None:
    run_sipp(fast, "sipp_options", tmp_path, transport=transport).assert_ok()


# -- 2. a call with an RTP stream --------------------------------------------------------
def _stream_audio() -> np.ndarray:
    """2 s of a deterministic, non-periodic signal (a chirp with a wobbling level), 8 kHz int16."""
    t = np.arange(int(STREAM_S * 8000)) / 8000
    level = 6000 + 3000 * np.sin(2 * np.pi * 1.3 * t)
    return np.round(level * np.sin(2 * np.pi * (300 * t + 400 * t**2))).astype(np.int16)


def _decoded_like_server(ulaw: bytes) -> np.ndarray:
    """What the server's PCMU decoder makes of the stream, packet by packet (160 bytes), at 16 kHz."""
    dec = decoder_for("PCMU")
    return np.concatenate([dec.decode(ulaw[i : i + 160]) for i in range(0, len(ulaw), 160)])


def test_pcmu_call_with_rtp_stream(fast: ServerHandle, tmp_path: Path) -> None:
    ulaw = bytes(g711.ulaw_encode(_stream_audio()))
    sipp = run_sipp(fast, "sipp_call_rtp", tmp_path, pause_ms=3000, files={"caller.ulaw": ulaw})
    sipp.assert_ok()
    call = ended_call(fast, sipp.sip_call_id())
    assert (call["end_reason"], call["codec"], call["recognition"]) == ("caller_hangup", "PCMU", "off"), call
    pcm, rate = sf.read(str(fast.workdir / "rec" / f"{call['id']}-caller.wav"), dtype="int16")
    assert rate == 16000
    sent = _decoded_like_server(ulaw)
    # The recorder starts at the ACK, so it may miss the first frames, but what it has must be the
    # stream bit for bit (G.711 is exact and loopback loses nothing), in whole 20 ms frames.
    assert STREAM_S - 0.2 <= pcm.size / rate <= STREAM_S + 0.02, f"recorded {pcm.size / rate:.2f} s"
    offsets = [k for k in range(0, 11) if np.array_equal(pcm, sent[k * FRAME : k * FRAME + pcm.size])]
    assert offsets, "the recording is not the streamed audio"
    assert np.sqrt(np.mean(pcm.astype(float) ** 2)) > 1000


# -- 3 and 8. CANCEL while ringing, and 503 above sip.max_calls ------------------------------------
@dataclass
class RingingOutcome:
    caller: Sipp  # INVITE, 180, CANCEL after 2 s
    busy: Sipp  # INVITE while the first one rings


@pytest.fixture(scope="module")
def ring_and_busy(ringing: ServerHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RingingOutcome]:
    """One caller rings and cancels 2 s after the 180; while it rings, a second INVITE exceeds max_calls (1).

    The CANCEL and 503 tests share this one ringing call (each ringing call costs seconds).
    """
    workdir = tmp_path_factory.mktemp("ring")
    caller = Sipp.start(ringing, "sipp_cancel_ringing", workdir, pause_ms=2000)
    busy: Sipp | None = None
    try:
        with contextlib.suppress(AssertionError):  # a failed caller is reported by the tests
            wait_state(ringing, caller.sip_call_id(), ("offered", "ringing"), timeout=5)
        busy = run_sipp(ringing, "sipp_busy_503", workdir)
        caller.wait()
        yield RingingOutcome(caller, busy)
    finally:
        caller.kill()
        if busy is not None:
            busy.kill()


def test_cancel_while_ringing(ringing: ServerHandle, ring_and_busy: RingingOutcome) -> None:
    caller = ring_and_busy.caller
    caller.assert_ok()  # 180, then 200 to the CANCEL and 487 to the INVITE, checked by the scenario
    call = ended_call(ringing, caller.sip_call_id())
    assert call["end_reason"] == "abandoned", call
    assert call["answered_at"] is None, call


def test_cancel_ends_the_call_at_once(ringing: ServerHandle, ring_and_busy: RingingOutcome) -> None:
    """Regression: the server used to sleep through sip.ring_ms and end a cancelled call only then."""
    ring_and_busy.caller.assert_ok()
    call = ended_call(ringing, ring_and_busy.caller.sip_call_id())
    lasted = (datetime.fromisoformat(call["ended_at"]) - datetime.fromisoformat(call["started_at"])).total_seconds()
    # The caller cancels 2 s after the 180; ringing would have ended after RING_MS.
    assert 1.5 < lasted < RING_MS / 1000 - 0.5, f"a call cancelled after ~2 s lasted {lasted:.2f} s: {call}"


def test_above_max_calls_gets_503_with_retry_after(ringing: ServerHandle, ring_and_busy: RingingOutcome) -> None:
    busy = ring_and_busy.busy
    busy.assert_ok()  # 503 with a numeric Retry-After, checked by the scenario
    assert call_by_sip_id(ringing, busy.sip_call_id(), timeout=0) is None, "a refused INVITE became a call"
    ring_and_busy.caller.assert_ok()  # the ringing call did not notice


def test_call_slot_is_free_after_the_call_ends(ringing: ServerHandle, ring_and_busy: RingingOutcome,
                                               tmp_path: Path) -> None:
    """Regression: an ended call used to hold its sip.max_calls slot for sippy's 32 s clean-up of the dialog."""
    ring_and_busy.caller.assert_ok()
    ended_call(ringing, ring_and_busy.caller.sip_call_id())  # no call is active any more
    sipp = run_sipp(ringing, "sipp_cancel_ringing", tmp_path, pause_ms=200)
    assert not _refused_busy(sipp), f"INVITE after the only call ended was refused with 503\n{sipp.report()}"
    sipp.assert_ok()
    assert ended_call(ringing, sipp.sip_call_id())["end_reason"] == "abandoned"


# -- 4. BYE from the caller ---------------------------------------------------------------------
def test_caller_hangs_up_with_bye(fast: ServerHandle, tmp_path: Path) -> None:
    sipp = run_sipp(fast, "sipp_call_bye", tmp_path)
    sipp.assert_ok()
    call = ended_call(fast, sipp.sip_call_id())
    assert (call["end_reason"], call["codec"]) == ("caller_hangup", "PCMU"), call
    assert call["answered_at"] is not None


def test_caller_hangs_up_over_tcp(fast: ServerHandle, tmp_path: Path) -> None:
    sipp = run_sipp(fast, "sipp_call_bye", tmp_path, transport="t1")
    sipp.assert_ok()
    assert ended_call(fast, sipp.sip_call_id())["end_reason"] == "caller_hangup"


# -- 5. late offer ------------------------------------------------------------------------------
def test_late_offer(fast: ServerHandle, tmp_path: Path) -> None:
    sipp = run_sipp(fast, "sipp_late_offer", tmp_path)
    sipp.assert_ok()  # the 200's SDP offers PCMU, checked by the scenario
    call = ended_call(fast, sipp.sip_call_id())
    assert (call["end_reason"], call["codec"]) == ("caller_hangup", "PCMU"), call


# -- 6. hold and unhold ---------------------------------------------------------------------------
def test_reinvite_hold_and_unhold(fast: ServerHandle, tmp_path: Path) -> None:
    sipp = run_sipp(fast, "sipp_hold_unhold", tmp_path)
    sipp.assert_ok()  # recvonly answered to sendonly, sendrecv to sendrecv, checked by the scenario
    call = ended_call(fast, sipp.sip_call_id())
    assert call["end_reason"] == "caller_hangup", call
    assert [e["type"] for e in call["timeline"] if e["type"] in ("hold", "unhold")] == ["hold", "unhold"], call


# -- 7. no common codec ---------------------------------------------------------------------------
def test_only_unsupported_codecs_gets_488(fast: ServerHandle, tmp_path: Path) -> None:
    sipp = run_sipp(fast, "sipp_reject_codec", tmp_path)
    sipp.assert_ok()
    call = ended_call(fast, sipp.sip_call_id())
    assert (call["end_reason"], call["codec"], call["answered_at"]) == ("rejected_codec", None, None), call


# -- 9. malformed SIP -----------------------------------------------------------------------------
def _request(method: str, call_id: str, local_port: int, server_port: int, *, drop: tuple[str, ...] = (),
             replace: dict[str, str] | None = None, body: str = "") -> bytes:
    headers = {
        "Via": f"SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK-{call_id}",
        "From": f"<sip:junk@127.0.0.1:{local_port}>;tag=junk-{call_id}",
        "To": f"<sip:service@127.0.0.1:{server_port}>",
        "Call-ID": f"{call_id}@junk",
        "CSeq": f"1 {method}",
        "Contact": f"<sip:junk@127.0.0.1:{local_port}>",
        "Max-Forwards": "70",
    }
    headers.update(replace or {})
    for name in drop:
        headers.pop(name)
    if body:
        headers["Content-Type"] = "application/sdp"
    headers.setdefault("Content-Length", str(len(body.encode())))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"{method} sip:service@127.0.0.1:{server_port} SIP/2.0\r\n{head}\r\n{body}".encode()


SDP = "v=0\r\no=junk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"


def _sip_junk(local_port: int, server_port: int) -> list[bytes]:
    rng = random.Random(9)
    junk = [
        b"", b"\x00", b"\r\n\r\n", b"\xff" * 1400, bytes(rng.getrandbits(8) for _ in range(1400)),
        b"INVITE \xff\xfe\x00 SIP/2.0\r\n\xc3\x28: \x00\r\n\r\n",
        b"HELLO sip:x SIP/7.0\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-stray\r\nCSeq: 1 INVITE\r\n\r\n",
        _request("INVITE", "no-via", local_port, server_port, drop=("Via",), body=SDP),
        _request("INVITE", "no-to", local_port, server_port, drop=("To",), body=SDP),
        _request("INVITE", "bad-cseq", local_port, server_port, replace={"CSeq": "banana"}, body=SDP),
        _request("INVITE", "cseq-method", local_port, server_port, replace={"CSeq": "1 BYE"}, body=SDP),
        _request("INVITE", "huge-length", local_port, server_port, replace={"Content-Length": "99999"}, body=SDP),
        _request("INVITE", "neg-length", local_port, server_port, replace={"Content-Length": "-5"}, body=SDP),
        _request("INVITE", "bad-from", local_port, server_port, replace={"From": "<<<>>>;tag="}, body=SDP),
        _request("INVITE", "bad-sdp", local_port, server_port, body="m=audio x RTP/AVP zero\r\n"),
        _request("BYE", "stray-bye", local_port, server_port),
        _request("ACK", "stray-ack", local_port, server_port),
        _request("CANCEL", "stray-cancel", local_port, server_port),
    ]
    junk += [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 1500))) for _ in range(100)]
    return junk


def _drain(sock: socket.socket, quiet: float = 0.5) -> list[bytes]:
    """What arrives until ``quiet`` seconds pass without anything (or a stream is closed)."""
    sock.settimeout(quiet)
    out = []
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while data := sock.recv(65536):
            out.append(data)
    return out




def test_malformed_sip_does_not_hurt_the_server(fast: ServerHandle, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        local = udp.getsockname()[1]
        for datagram in _sip_junk(local, fast.sip_port):
            udp.sendto(datagram, ("127.0.0.1", fast.sip_port))
        answers = _drain(udp)
    assert all(a.startswith(b"SIP/2.0 ") for a in answers), answers
    # What cannot be parsed never becomes a call; a parseable INVITE with a broken SDP is refused.
    for broken in ("no-via", "no-to", "bad-cseq", "huge-length", "stray-bye", "stray-ack", "stray-cancel"):
        assert call_by_sip_id(fast, f"{broken}@junk", timeout=0) is None, broken
    assert ended_call(fast, "bad-sdp@junk")["end_reason"] == "rejected_sdp"
    assert any(a.startswith(b"SIP/2.0 488 ") and b"bad-sdp@junk" in a for a in answers), answers
    # TCP: junk the framer cannot frame; a truncated message followed by our end of the stream.
    streams = [(bytes(random.Random(3).getrandbits(8) for _ in range(70000)), False),
               (b"INVITE sip:x SIP/2.0\r\nContent-Length: nope\r\n\r\n", False),
               (b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n", False),
               (b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9\r\nContent-Length: 5\r\n\r\nab", True)]
    for stream, half_close in streams:
        with socket.create_connection(("127.0.0.1", fast.sip_port), timeout=5) as tcp:
            with contextlib.suppress(OSError):
                tcp.sendall(stream)
                if half_close:
                    tcp.shutdown(socket.SHUT_WR)
            assert closed_by_peer(tcp), f"the server kept the connection open after {stream[:60]!r}"
    assert fast.proc.poll() is None, fast.log()[-4000:]
    run_sipp(fast, "sipp_options", tmp_path, transport="t1").assert_ok()
    sipp = run_sipp(fast, "sipp_call_bye", tmp_path)
    sipp.assert_ok()
    assert ended_call(fast, sipp.sip_call_id())["end_reason"] == "caller_hangup"
    assert fast.proc.poll() is None, fast.log()[-4000:]


def test_bye_outside_a_dialog_gets_481(fast: ServerHandle) -> None:
    """Regression: a BYE matching no dialog used to get 405 (without the Allow header 405 requires)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.sendto(_request("BYE", f"lost-bye-{uuid.uuid4().hex[:8]}", udp.getsockname()[1], fast.sip_port),
                   ("127.0.0.1", fast.sip_port))
        answers = _drain(udp, quiet=1)
    assert len(answers) == 1 and answers[0].startswith(b"SIP/2.0 481 "), answers


def test_invite_without_contact_gets_400_and_takes_no_call_slot(tmp_path: Path) -> None:
    """Regression: sippy raised on such an INVITE after its UA was counted, which then held a slot for good."""
    server = start_server(tmp_path / "server", {"asr": {"enabled": False}, "sip": {"max_calls": 1}, **NO_AGENTS})
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            bad = _request("INVITE", "no-contact", udp.getsockname()[1], server.sip_port, drop=("Contact",),
                           body=SDP)
            udp.sendto(bad, ("127.0.0.1", server.sip_port))
            answers = _drain(udp, quiet=1)
        # (retransmitted until ACKed, which this raw sender never does)
        assert answers and {a.split(b"\r\n", 1)[0][:12] for a in answers} == {b"SIP/2.0 400 "}, answers
        assert server.proc.poll() is None, server.log()[-4000:]
        sipp = run_sipp(server, "sipp_call_bye", tmp_path)
        assert not _refused_busy(sipp), f"the bad INVITE took the only call slot\n{sipp.report()}"
        sipp.assert_ok()
        assert call_by_sip_id(server, "no-contact@junk", timeout=0) is None
    finally:
        server.stop()


# -- 10. garbage on the RTP ports ---------------------------------------------------------------------
def _rtp_junk(rng: random.Random) -> list[bytes]:
    """Non-RTP noise and RTP-looking packets: random payload types, bad lengths, CSRC/extension/padding lies."""
    out = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 400))) for _ in range(6)]
    for _ in range(6):
        pt = rng.choice([0, 0, 8, 9, 13, 72, 101, 127, rng.randrange(128)])
        b0 = 0x80 | rng.choice([0, 0, 0x0F, 0x10, 0x20, 0x2F, 0x3F])
        hdr = struct.pack("!BBHII", b0, pt | rng.choice([0, 0x80]), rng.getrandbits(16), rng.getrandbits(32),
                          rng.getrandbits(32))
        out.append(hdr + bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 3, 160, 161, 1000]))))
    out += [b"\x80", b"\x80\x00", b"\x80\x00" + b"\x00" * 9]  # shorter than the header
    return out


def test_rtp_garbage_does_not_break_the_call(fast: ServerHandle, tmp_path: Path) -> None:
    ulaw = bytes(g711.ulaw_encode(_stream_audio()))
    sipp = Sipp.start(fast, "sipp_call_rtp", tmp_path, pause_ms=3000, files={"caller.ulaw": ulaw})
    try:
        wait_state(fast, sipp.sip_call_id(), ("connected",))
        rng = random.Random(10)
        low, high = fast.rtp
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
            for _ in range(34):  # 34 rounds x 15 datagrams = 510 per port
                for port in range(low, high + 1):
                    for datagram in _rtp_junk(rng):
                        with contextlib.suppress(OSError):  # ICMP port unreachable from unused ports
                            junk.sendto(datagram, ("127.0.0.1", port))
                            sent += 1
                time.sleep(0.01)
        assert sent > 500 * (high - low + 1) * 0.9
        sipp.wait()
    finally:
        sipp.kill()
    sipp.assert_ok()  # the call went on: BYE got its 200
    call = ended_call(fast, sipp.sip_call_id())
    assert (call["end_reason"], call["codec"]) == ("caller_hangup", "PCMU"), call
    assert fast.proc.poll() is None, fast.log()[-4000:]
    assert "call failed" not in fast.log()
    after = run_sipp(fast, "sipp_call_bye", tmp_path)
    after.assert_ok()
    assert ended_call(fast, after.sip_call_id())["end_reason"] == "caller_hangup"


def test_no_unexpected_server_errors(fast: ServerHandle) -> None:
    """Whatever the scenarios above sent, no call task crashed (sippy's own parse errors are expected)."""
    log = fast.log()
    assert not re.search(r"call failed|recognition consumer failed|could not store", log), log[-6000:]
