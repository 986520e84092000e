"""Agent phones REGISTER with digest auth: sipp over loopback UDP against a real SipStack in this process.

Each test sends from its own loopback address (127.0.0.x, sipp ``-bind_local``) because the registrar
rate-limits failures per source IP. The stack runs with tiny lifetimes (nonce 1 s, block 2 s, minimum
registration 1 s) so that expiry, stale nonces and the end of a block happen within seconds.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.net import free_port
from voice.registrar import Binding, Credentials, Registrar
from voice.settings import SipSettings
from voice.stack import SipStack

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SIPP = shutil.which("sipp")
NONCE_TTL_S = 1
BLOCK_S = 2
FAIL_LIMIT = 3
USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw", "erin": "erin-pw",
         "frank": "frank-pw"}


@dataclass
class Events:
    """Registration changes as the asyncio loop received them."""

    loop_thread: threading.Thread | None = None
    seen: list[tuple[str, bool, Binding | None, bool]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, user: str, bound: bool, binding: Binding | None) -> None:
        """The on_registration callback; notes whether it ran on the loop's thread."""
        with self.cond:
            self.seen.append((user, bound, binding, threading.current_thread() is self.loop_thread))
            self.cond.notify_all()

    def wait_for(self, pred: Callable[[tuple[str, bool, Binding | None, bool]], bool],
                 timeout: float = 5) -> tuple[str, bool, Binding | None, bool]:
        """The first event matching ``pred``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.seen:
                    if pred(event):
                        return event
                left = deadline - time.monotonic()
                assert left > 0, f"no matching registration event in {self.seen}"
                self.cond.wait(left)


@dataclass
class Hotline:
    """The SIP stack under test."""

    stack: SipStack
    registrar: Registrar
    events: Events
    port: int


@pytest.fixture(scope="module")
def hotline() -> Iterator[Hotline]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-asyncio", daemon=True)
    thread.start()
    events = Events(loop_thread=thread)
    port = free_port()
    settings = SipSettings(port=port, tcp=False, nonce_ttl_s=NONCE_TTL_S, register_min_expires_s=1,
                           auth_fail_limit=FAIL_LIMIT, auth_fail_window_s=60, auth_block_s=BLOCK_S)
    creds = Credentials()
    for user, password in USERS.items():
        creds.set_password(user, settings.realm, password)
    registrar = Registrar(settings, creds)
    stack = SipStack(settings, loop, on_call=lambda call: None, registrar=registrar, on_registration=events.add)
    stack.start()
    yield Hotline(stack, registrar, events, port)
    stack.stop()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _free_udp(ip: str, count: int) -> int:
    """An even port on ``ip`` with the next ``count - 1`` free too."""
    for _ in range(100):
        base = random.randrange(30000, 39990, 2)
        socks: list[socket.socket] = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((ip, p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no free UDP ports on {ip}")


@dataclass
class SippRun:
    """One finished sipp run."""

    rc: int
    port: int
    log: str


def sipp(hotline: Hotline, scenario: str, workdir: Path, ip: str, user: str, password: str, *,
         expires: int = 60, pause_ms: int | None = None) -> SippRun:
    """Run ``scenario`` once from ``ip`` as ``user``; sipp exits 0 only if every expected message came."""
    assert SIPP is not None, "sipp is not installed (make test installs sip-tester)"
    cwd = workdir / f"{scenario}-{ip}-{time.monotonic_ns()}"
    cwd.mkdir(parents=True)
    local_port = _free_udp(ip, 1)
    cmd = [SIPP, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-t", "u1", "-i", ip, "-bind_local",
           "-p", str(local_port), "-mp", str(_free_udp(ip, 4)), "-m", "1", "-l", "1",
           "-s", user, "-au", user, "-ap", password, "-key", "expires", str(expires),
           "-timeout", "15", "-timeout_error", "-nostdin", "-trace_err"]
    if pause_ms is not None:
        cmd += ["-d", str(pause_ms)]
    proc = subprocess.run([*cmd, f"127.0.0.1:{hotline.port}"], cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=30)
    errors = "".join(p.read_text(errors="replace")[-4000:] for p in cwd.glob("*_errors.log"))
    return SippRun(proc.returncode, local_port, f"{scenario} rc={proc.returncode}\n{proc.stderr[-2000:]}\n{errors}")


# -- tests ------------------------------------------------------------------------------------------
def test_right_password_registers(hotline: Hotline, tmp_path: Path) -> None:
    run = sipp(hotline, "register_ok", tmp_path, "127.0.0.21", "alice", USERS["alice"], expires=120)
    assert run.rc == 0, run.log
    b = hotline.registrar.lookup("alice")
    assert b is not None
    assert (b.host, b.port, b.transport, b.source[0], b.user_agent) == ("127.0.0.21", run.port, "udp",
                                                                        "127.0.0.21", "sipp-register")
    assert b.contact == f"sip:alice@127.0.0.21:{run.port};transport=UDP"
    assert 110 < b.expires_at - time.monotonic() <= 120
    user, bound, binding, on_loop = hotline.events.wait_for(lambda e: e[0] == "alice")
    assert (user, bound, binding, on_loop) == ("alice", True, b, True)


@pytest.mark.parametrize(("ip", "user", "password"), [("127.0.0.22", "bob", "wrong"),
                                                       ("127.0.0.23", "nobody", "bob-pw")],
                         ids=["wrong-password", "unknown-user"])
def test_bad_credentials_get_403(hotline: Hotline, tmp_path: Path, ip: str, user: str, password: str) -> None:
    run = sipp(hotline, "register_forbidden", tmp_path, ip, user, password)
    assert run.rc == 0, run.log
    assert hotline.registrar.lookup(user) is None
    assert not any(e[0] == user for e in hotline.events.seen)


def test_binding_expires(hotline: Hotline, tmp_path: Path) -> None:
    run = sipp(hotline, "register_ok", tmp_path, "127.0.0.24", "carol", USERS["carol"], expires=1)
    assert run.rc == 0, run.log
    hotline.events.wait_for(lambda e: e[:2] == ("carol", True), timeout=2)
    gone = hotline.events.wait_for(lambda e: e[:2] == ("carol", False), timeout=4)  # the 1 s sweep on sippy's thread
    assert gone == ("carol", False, None, True)
    assert hotline.registrar.lookup("carol") is None


def test_stale_nonce_is_challenged_with_stale_true(hotline: Hotline, tmp_path: Path) -> None:
    # the scenario itself checks the stale=true, then answers the new nonce and expects 200
    run = sipp(hotline, "register_stale", tmp_path, "127.0.0.25", "dave", USERS["dave"],
               pause_ms=NONCE_TTL_S * 1000 + 700)
    assert run.rc == 0, run.log
    assert hotline.registrar.lookup("dave") is not None


def test_wildcard_unregisters(hotline: Hotline, tmp_path: Path) -> None:
    assert sipp(hotline, "register_ok", tmp_path, "127.0.0.27", "erin", USERS["erin"]).rc == 0
    assert hotline.registrar.lookup("erin") is not None
    run = sipp(hotline, "register_unregister", tmp_path, "127.0.0.27", "erin", USERS["erin"])
    assert run.rc == 0, run.log
    assert hotline.registrar.lookup("erin") is None
    assert hotline.events.wait_for(lambda e: e[:2] == ("erin", False))[2] is None


def test_repeated_failures_block_the_source(hotline: Hotline, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hotline.sip.auth")
    ip = "127.0.0.26"
    for _ in range(FAIL_LIMIT):
        run = sipp(hotline, "register_forbidden", tmp_path, ip, "frank", "guess")
        assert run.rc == 0, run.log
    # blocked: even the right password gets 403 straight away, without a challenge
    run = sipp(hotline, "register_blocked", tmp_path, ip, "frank", USERS["frank"])
    assert run.rc == 0, run.log
    messages = [r.getMessage() for r in caplog.records if r.name == "hotline.sip.auth"]
    assert sum("authentication failed" in m and "'frank'" in m and ip in m for m in messages) == FAIL_LIMIT
    assert any(f"blocking REGISTER from {ip}" in m for m in messages), messages
    # another source is not affected, and the block ends
    assert sipp(hotline, "register_ok", tmp_path, "127.0.0.28", "frank", USERS["frank"]).rc == 0
    time.sleep(BLOCK_S + 0.2)
    run = sipp(hotline, "register_ok", tmp_path, ip, "frank", USERS["frank"])
    assert run.rc == 0, run.log
