"""End-to-end tests of ``hotline phone register``: a sipp registrar, sipp callers, and the JSON event stream."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.support.net import free_port

SCENARIOS = Path(__file__).parent / "scenarios"
USER, PASSWORD = "agent1", "secret"  # what scenarios/registrar.xml accepts
TRANSFER_TARGET = "sip:queue@127.0.0.1:5999"  # what scenarios/uac_agent_refer.xml expects in Refer-To


@dataclass
class Sipp:
    """One sipp process (registrar or caller) in its own working directory."""

    proc: subprocess.Popen[str]
    workdir: Path
    port: int
    cid: str

    def call_id(self, n: int = 1) -> str:
        """The Call-ID of sipp's call ``n``."""
        return f"{self.cid}-{n}@127.0.0.1"

    def wait(self, timeout: float = 15.0) -> int:
        """Wait for sipp to exit (killing it after ``timeout``); return its exit code."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def errors(self) -> str:
        """sipp's error log, for assertion messages."""
        return "".join(p.read_text(errors="replace")[-4000:] for p in self.workdir.glob("*_errors.log"))


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Any]:
    """Starts sipp processes; each is killed at the end if still running."""
    started: list[Sipp] = []

    def start(scenario: str, *args: str, target: str | None = None, transport: str = "u1") -> Sipp:
        cid = uuid.uuid4().hex[:10]
        workdir = tmp_path / f"sipp-{scenario}-{cid}"
        workdir.mkdir()
        kind = socket.SOCK_STREAM if transport.startswith("t") else socket.SOCK_DGRAM
        port = free_port(kind)
        cmd = ["sipp", "-sf", str(SCENARIOS / f"{scenario}.xml"), "-t", transport, "-i", "127.0.0.1"]
        cmd += ["-p", str(port), "-mp", str(free_port()), "-timeout", "30", "-nostdin", "-trace_err", "-trace_msg"]
        cmd += ["-cid_str", f"{cid}-%u@%s", *args]
        if target is not None:
            cmd.append(target)
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
        )
        started.append(Sipp(proc, workdir, port, cid))
        if target is None:
            _wait_listening(port, kind, proc)
        return started[-1]

    yield start
    for one in started:
        if one.proc.poll() is None:
            one.proc.kill()
        one.proc.wait(timeout=5)


def _wait_listening(port: int, kind: int, proc: subprocess.Popen[str], deadline_s: float = 5.0) -> None:
    """Wait until sipp holds ``port`` on 127.0.0.1."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert proc.poll() is None, "sipp exited early"
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise AssertionError(f"sipp did not bind port {port}")


@dataclass
class Phone:
    """A running ``hotline phone register``, with its stdout parsed as JSON events in a thread."""

    proc: subprocess.Popen[str]
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    seen: list[dict[str, Any]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))  # a line that is not JSON fails the test in ``event``

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr.extend(self.proc.stderr)

    def event(self, name: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the next event called ``name`` (events before it are kept in ``seen``)."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(event)
            if event["event"] == name:
                return event
        raise AssertionError(f"no {name!r} event; seen {self.seen}; stderr:\n{''.join(self.stderr)[-3000:]}")

    def finish(self, timeout: float = 15.0) -> int:
        """Wait for exit, collect the remaining events, and return the exit code."""
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        time.sleep(0.1)  # let the reader threads drain the pipes
        while not self.events.empty():
            self.seen.append(self.events.get())
        return code

    def names(self) -> list[str]:
        """Names of the events seen so far."""
        return [e["event"] for e in self.seen]

    @property
    def hostport(self) -> str:
        """``host:port`` of our Contact, from the first ``registered`` event."""
        contact = next(e["contact"] for e in self.seen if e["event"] == "registered")
        return str(contact).split("@", 1)[1].split(";", 1)[0]


_PHONES: list[Phone] = []


@pytest.fixture(autouse=True)
def _kill_leftover_phones() -> Iterator[None]:
    """A failed test must not leave its phone running."""
    yield
    while _PHONES:
        proc = _PHONES.pop().proc
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def _start_phone(registrar_port: int, *args: str, password: str = PASSWORD) -> Phone:
    cmd = [sys.executable, "-c", "from hotline.cli import main; main()", "phone", "register"]
    cmd += [f"{USER}@127.0.0.1:{registrar_port}", "--password", password, *args]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
    )
    _PHONES.append(Phone(proc))
    return _PHONES[-1]


def _run_phone(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from hotline.cli import main; main()", "phone", "register", *args]
    env = None if env is None else {**os.environ, **env}
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=20, check=False, env=env)


def _loud_seconds(path: Path) -> float:
    heard, rate = sf.read(path)
    assert rate == 8000
    return float((np.abs(heard) > 0.1).sum() / rate)


# -- registration ---------------------------------------------------------------------
def test_registers_with_digest_and_unregisters_on_sigterm(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    local = free_port()
    phone = _start_phone(registrar.port, "--expires", "120", "--local-port", str(local))
    reg = phone.event("registered")
    # The registrar only learns 120 from our Expires header, and echoes it as the granted expiry.
    assert reg["code"] == 200 and reg["expires"] == 120 and reg["refresh"] is False
    assert reg["contact"] == f"sip:{USER}@127.0.0.1:{local}"
    assert reg["registrar"] == f"sip:127.0.0.1:{registrar.port}"
    phone.proc.send_signal(signal.SIGTERM)
    assert phone.finish() == 0, "".join(phone.stderr)
    assert phone.seen[-1] == {"event": "unregistered", "code": 200, "reason": "OK"}
    # The scenario only ends after a digest-checked REGISTER with Expires: 0.
    assert registrar.wait() == 0, registrar.errors()


def test_refreshes_before_expiry_and_stops_on_sigint(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    phone = _start_phone(registrar.port, "--expires", "10")
    assert phone.event("registered")["expires"] == 10
    started = time.monotonic()
    refresh = phone.event("registered", timeout=9)
    assert refresh["refresh"] is True and refresh["expires"] == 10
    assert 4.0 < time.monotonic() - started < 7.0, "pjsua refreshes 5 s before expiry"
    phone.proc.send_signal(signal.SIGINT)
    assert phone.finish() == 0
    assert phone.names()[-1] == "unregistered"
    assert registrar.wait() == 0, registrar.errors()


def test_tcp_registration(sipp) -> None:
    registrar = sipp("registrar", "-m", "1", transport="t1")
    phone = _start_phone(registrar.port, "--transport", "tcp")
    reg = phone.event("registered")
    assert reg["contact"].endswith(";transport=tcp")
    assert reg["registrar"] == f"sip:127.0.0.1:{registrar.port};transport=tcp"
    phone.proc.send_signal(signal.SIGTERM)
    assert phone.finish() == 0
    assert phone.seen[-1]["code"] == 200
    assert registrar.wait() == 0, registrar.errors()


@pytest.mark.parametrize(
    ("scenario", "password", "status"),
    [
        ("registrar", "wrong", "401 Unauthorized"),  # challenged again after our credentials
        ("registrar_forbidden", PASSWORD, "403 Forbidden"),
    ],
)
def test_refused_registration_exits_3(sipp, scenario: str, password: str, status: str) -> None:
    registrar = sipp(scenario, "-m", "1")
    res = _run_phone(f"{USER}@127.0.0.1:{registrar.port}", "--password", password)
    assert res.returncode == 3
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    expected = f"error: registration with sip:127.0.0.1:{registrar.port} failed: {status}"
    assert res.stderr.strip().splitlines()[-1] == expected


def test_silent_registrar_exits_3_after_register_timeout() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    env = {"HOTLINE_AGENT_PASSWORD": PASSWORD}  # the password can stay off the command line
    res = _run_phone(f"{USER}@127.0.0.1:{port}", "--register-timeout", "1", env=env)
    assert res.returncode == 3
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].endswith("failed: 408 no answer from the registrar within 1 s")
    assert time.monotonic() - started < 8


def test_unreachable_tcp_registrar_exits_3() -> None:
    port = free_port(socket.SOCK_STREAM)  # nothing listens there: the connection is refused
    res = _run_phone(f"{USER}@127.0.0.1:{port}", "--password", PASSWORD, "--transport", "tcp")
    assert res.returncode == 3
    assert "Traceback" not in res.stderr
    expected = f"error: registration with sip:127.0.0.1:{port};transport=tcp failed: 503 Connection refused"
    assert res.stderr.strip().splitlines()[-1] == expected


# -- calls ------------------------------------------------------------------------------
def test_auto_answer_plays_and_records_each_call(sipp, tone: Path, tmp_path: Path) -> None:
    registrar = sipp("registrar", "-m", "1")
    rec = tmp_path / "heard.wav"
    phone = _start_phone(
        registrar.port,
        "--auto-answer",
        "--answer-delay",
        "0.5",
        "--play",
        str(tone),
        "--record",
        str(rec),
        "--hangup-after",
        "1.8",
        "--max-calls",
        "2",
    )
    phone.event("registered")
    caller = sipp("uac_agent_call", "-s", USER, "-rtp_echo", "-m", "2", "-l", "1", target=phone.hostport)
    for n in (1, 2):
        incoming = phone.event("incoming")
        assert incoming["call"] == n and incoming["call_id"] == caller.call_id(n)
        assert "<sip:caller@127.0.0.1" in incoming["from"]
        answered = phone.event("answered")
        assert answered["call"] == n and answered["after_s"] >= 0.5
        ended = phone.event("ended")
        assert ended["reason"] == "local_hangup" and ended["answered"] is True
        assert 1.7 <= ended["duration_s"] <= 2.5
        assert ended["codec"] == "PCMU" and 0.9 <= ended["played_s"] <= 1.1
    assert caller.wait() == 0, caller.errors()
    assert phone.finish() == 0
    assert phone.names()[-1] == "unregistered"
    second = tmp_path / "heard-2.wav"
    assert [e["record"] for e in phone.seen if e["event"] == "ended"] == [str(rec), str(second)]
    for path in (rec, second):
        assert _loud_seconds(path) > 0.8, f"the echoed tone should be in {path.name}"


def test_second_caller_gets_busy_here(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    phone = _start_phone(registrar.port, "--auto-answer", "--max-calls", "1")
    phone.event("registered")
    first = sipp("uac_agent_bye", "-s", USER, "-m", "1", "-d", "2500", target=phone.hostport)
    phone.event("answered")
    second = sipp("uac_agent_busy", "-s", USER, "-m", "1", target=phone.hostport)
    busy = phone.event("busy")
    assert busy["call_id"] == second.call_id()
    assert second.wait() == 0, second.errors()
    ended = phone.event("ended")
    assert ended["call"] == 1 and ended["reason"] == "remote_hangup"
    assert first.wait() == 0, first.errors()
    assert phone.finish() == 0
    assert phone.names().count("incoming") == 1


def test_without_auto_answer_it_rings_until_cancelled(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    phone = _start_phone(registrar.port, "--max-calls", "1")
    phone.event("registered")
    caller = sipp("uac_agent_cancel", "-s", USER, "-m", "1", "-d", "1500", target=phone.hostport)
    assert phone.event("incoming")["call"] == 1
    ended = phone.event("ended")
    assert ended["reason"] == "cancelled" and ended["answered"] is False and ended["duration_s"] == 0.0
    assert caller.wait() == 0, caller.errors()  # it got 180, then 487 after its CANCEL
    assert phone.finish() == 0
    assert "answered" not in phone.names()


def test_blind_transfer_sends_refer(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    phone = _start_phone(
        registrar.port, "--auto-answer", "--transfer-to", TRANSFER_TARGET, "--transfer-after", "0.5", "--max-calls", "1"
    )
    phone.event("registered")
    caller = sipp("uac_agent_refer", "-s", USER, "-m", "1", target=phone.hostport)
    transferred = phone.event("transferred")
    assert transferred == {
        "event": "transferred",
        "call": 1,
        "to": TRANSFER_TARGET,
        "status": 202,
        "reason": "Accepted",
        "accepted": True,
    }
    ended = phone.event("ended")
    assert ended["reason"] == "transferred"
    assert 0.4 <= ended["duration_s"] < 3.0
    assert caller.wait() == 0, caller.errors()  # Refer-To checked, NOTIFY answered, BYE received
    assert phone.finish() == 0
    progress = [e for e in phone.seen if e["event"] == "transfer_progress"]
    assert progress[-1] == {"event": "transfer_progress", "call": 1, "status": 200, "reason": "OK", "final": True}


def test_refused_transfer_keeps_the_call(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    phone = _start_phone(
        registrar.port,
        "--auto-answer",
        "--transfer-to",
        TRANSFER_TARGET,
        "--transfer-after",
        "0.3",
        "--hangup-after",
        "1.2",
        "--max-calls",
        "1",
    )
    phone.event("registered")
    caller = sipp("uac_agent_refer_rejected", "-s", USER, "-m", "1", target=phone.hostport)
    transferred = phone.event("transferred")
    assert transferred["status"] == 403 and transferred["accepted"] is False
    ended = phone.event("ended")
    assert ended["reason"] == "local_hangup" and ended["duration_s"] >= 1.1
    assert caller.wait() == 0, caller.errors()
    assert phone.finish() == 0


def test_stop_during_a_call_hangs_up_then_unregisters(sipp) -> None:
    registrar = sipp("registrar", "-m", "1")
    phone = _start_phone(registrar.port, "--auto-answer")
    phone.event("registered")
    caller = sipp("uac_agent_call", "-s", USER, "-m", "1", target=phone.hostport)
    phone.event("answered")
    phone.proc.send_signal(signal.SIGINT)
    assert phone.event("ended")["reason"] == "shutdown"
    assert phone.finish() == 0
    assert phone.seen[-1] == {"event": "unregistered", "code": 200, "reason": "OK"}
    assert caller.wait() == 0, caller.errors()  # it got our BYE
    assert registrar.wait() == 0, registrar.errors()


# -- argument checks --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agent1", "--password", "x"], "not an agent address"),
        (["agent1@127.0.0.1:5060", "--password", "x", "--transfer-to", "sip:q@h"], "go together"),
        (["agent1@127.0.0.1:5060", "--password", "x", "--record", "out.mp3"], "need a .wav path"),
        (["agent1@127.0.0.1:5060", "--password", "x", "--answer-delay", "1"], "needs --auto-answer"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str) -> None:
    res = _run_phone(*args)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr


# -- pieces -------------------------------------------------------------------------------
def test_agent_address_parsing() -> None:
    from hotline.phone.agent import AgentAddress
    from hotline.phone.softphone import SoftphoneError

    addr = AgentAddress.parse("sip:agent7@pbx.example.com:5080")
    assert (addr.user, addr.host, addr.port) == ("agent7", "pbx.example.com", 5080)
    assert addr.aor == "sip:agent7@pbx.example.com:5080"
    assert addr.registrar_uri("tcp") == "sip:pbx.example.com:5080;transport=tcp"
    assert AgentAddress.parse("1001@10.0.0.5").registrar_uri("udp") == "sip:10.0.0.5"
    for bad in ("agent", "@host", "a@host:0", "a@host:70000", "a@[::1]:5060", "a b@host"):
        with pytest.raises(SoftphoneError, match="expected USER@HOST"):
            AgentAddress.parse(bad)


def test_record_paths_number_calls_after_the_first(tmp_path: Path) -> None:
    from hotline.phone.agent import record_path_for

    base = tmp_path / "out.wav"
    assert [record_path_for(base, n).name for n in (1, 2, 10)] == ["out.wav", "out-2.wav", "out-10.wav"]


def test_json_events_are_one_flushed_line_each() -> None:
    import io

    from hotline.phone.agent import JsonEvents

    class Stream(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Stream()
    JsonEvents(stream).emit("ended", call=1, reason="cancelled")
    assert stream.getvalue() == '{"event": "ended", "call": 1, "reason": "cancelled"}\n'
    assert stream.flushes == 1
