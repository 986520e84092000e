"""SIP over TCP: the stream framer, and a real sippy stack (in a subprocess) driven by sipp over TCP."""

from __future__ import annotations

import contextlib
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import closed_by_peer, free_port
from voice.tcp import SipFramingError, SipStreamFramer

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SIPP = shutil.which("sipp")

OPTIONS = (
    "OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-{tag}\r\n"
    "From: <sip:raw@127.0.0.1>;tag={tag}\r\n"
    "To: <sip:probe@127.0.0.1:{port}>\r\n"
    "Call-ID: {tag}@raw\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)


# -- the framer ---------------------------------------------------------------
def _drain(framer: SipStreamFramer) -> list[bytes]:
    out = []
    while (msg := framer.next_message()) is not None:
        out.append(msg)
    return out


def test_framer_splits_by_content_length_and_skips_keepalives() -> None:
    body = b"v=0\r\n"
    one = b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 5\r\n\r\n" + body
    two = b"SIP/2.0 200 OK\r\nVia: x\r\nl: 0\r\n\r\n"
    framer = SipStreamFramer()
    stream = b"\r\n\r\n" + one + b"\r\n" + two
    msgs: list[bytes] = []
    for i in range(0, len(stream), 7):  # byte dribble
        framer.feed(stream[i : i + 7])
        msgs += _drain(framer)
    assert msgs == [one, two]
    assert framer.buffered == 0


def test_framer_compact_and_spaced_content_length() -> None:
    framer = SipStreamFramer()
    framer.feed(b"MESSAGE sip:a SIP/2.0\r\nL  :  3\r\n\r\nabcNEXT")
    assert framer.next_message() == b"MESSAGE sip:a SIP/2.0\r\nL  :  3\r\n\r\nabc"
    assert framer.next_message() is None
    assert framer.buffered == 4


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n", "missing"),
        (b"OPTIONS sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n", "invalid"),
        (b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 1x\r\n\r\n", "invalid"),
        (b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n", "conflicting"),
        (b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 99999999\r\n\r\n", "exceeds"),
    ],
)
def test_framer_rejects_bad_content_length(head: bytes, reason: str) -> None:
    framer = SipStreamFramer()
    framer.feed(head)
    with pytest.raises(SipFramingError, match=reason) as info:
        framer.next_message()
    assert info.value.buffered == len(head)


def test_framer_rejects_oversized_headers() -> None:
    framer = SipStreamFramer(max_header_bytes=1024)
    framer.feed(b"X" * 1024)
    assert framer.next_message() is None
    framer.feed(b"Y")
    with pytest.raises(SipFramingError, match="no end of headers"):
        framer.next_message()


def test_framer_accepts_headers_of_exactly_the_limit() -> None:
    head = b"OPTIONS sip:a SIP/2.0\r\nl: 0"
    framer = SipStreamFramer(max_header_bytes=len(head))
    framer.feed(head + b"\r\n\r\n")
    assert framer.next_message() == head + b"\r\n\r\n"


# -- the stack in a subprocess ------------------------------------------------
class Stack:
    """``tests/voice/sip_stack.py`` running in a subprocess."""

    def __init__(self, tmp_path: Path, idle_timeout: float = 600.0, *options: str) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "stack.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.voice.sip_stack", "--port", str(self.port),
             "--idle-timeout", str(idle_timeout), *options],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.expect(f"READY {self.port}", 20)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, line: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.seen:
            try:
                self.seen.append(self.lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                raise AssertionError(f"stack did not say {line!r}; said {self.seen}\n{self.log()}") from None

    def command(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.command("quit")
            try:
                self.expect("BYE-STACK", 15)
                self.proc.wait(10)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path)
    yield s
    assert s.stop() == 0, s.log()


def sipp(tmp_path: Path, *args: str, timeout: float = 40.0) -> subprocess.CompletedProcess[str]:
    assert SIPP is not None
    cmd = [SIPP, "-t", "t1", "-i", "127.0.0.1", "-p", str(free_port()), "-m", "1",
           "-timeout", "20", "-timeout_error", "-nostdin", *args]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=timeout,
                          check=False)


def assert_ok(res: subprocess.CompletedProcess[str], stack: Stack) -> None:
    assert res.returncode == 0, f"sipp rc={res.returncode}\n{res.stdout[-3000:]}\n{res.stderr}\n{stack.log()}"


def test_options_over_tcp(stack: Stack, tmp_path: Path) -> None:
    res = sipp(tmp_path, "-sf", str(SCENARIOS / "options_uac.xml"), f"127.0.0.1:{stack.port}")
    assert_ok(res, stack)


def test_call_over_tcp(stack: Stack, tmp_path: Path) -> None:
    res = sipp(tmp_path, "-sn", "uac", f"127.0.0.1:{stack.port}")
    assert_ok(res, stack)
    stack.expect("EVENT CCEventTry")
    stack.expect("EVENT CCEventDisconnect")


def test_server_hangs_up_over_tcp(stack: Stack, tmp_path: Path) -> None:
    """Our BYE goes over TCP with a TCP Via, our 200 offers a TCP Contact (checked by the scenario)."""
    res = sipp(tmp_path, "-sf", str(SCENARIOS / "uac_hangup.xml"), f"127.0.0.1:{stack.port}")
    assert_ok(res, stack)


def test_request_to_tcp_target_opens_connection_without_retransmissions(stack: Stack, tmp_path: Path) -> None:
    """OPTIONS to a TCP UAS we have no connection with; it answers after 2 s, so Timer A would have fired."""
    assert SIPP is not None
    uas_port = free_port()
    uas = subprocess.Popen(
        [SIPP, "-t", "t1", "-sf", str(SCENARIOS / "options_uas.xml"), "-i", "127.0.0.1", "-p", str(uas_port),
         "-m", "1", "-timeout", "20", "-timeout_error", "-nostdin"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
    )
    try:
        _wait_listening(uas_port)
        stack.command(f"ping {uas_port}")
        stack.expect("PING 200", 15)
        out, err = uas.communicate(timeout=20)
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.wait()
    assert uas.returncode == 0, f"sipp rc={uas.returncode}\n{out[-3000:]}\n{err}\n{stack.log()}"
    sends = re.findall(rf"SENDING message to tcp:127\.0\.0\.1:{uas_port}:\nOPTIONS ", stack.log())
    assert len(sends) == 1, stack.log()


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)




@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(bytes(range(1, 256)) * 300, id="binary-no-header-end"),
        pytest.param(b"HELLO\r\nthis is not sip\r\n\r\n", id="no-content-length"),
        pytest.param(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: nope\r\n\r\n", id="bad-content-length"),
    ],
)
def test_garbage_closes_connection_and_server_survives(stack: Stack, tmp_path: Path, garbage: bytes) -> None:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(garbage)
        assert closed_by_peer(sock)
    res = sipp(tmp_path, "-sf", str(SCENARIOS / "options_uac.xml"), f"127.0.0.1:{stack.port}")
    assert_ok(res, stack)


def test_undecodable_message_is_dropped_connection_kept(stack: Stack) -> None:
    """Well framed but not UTF-8: sippy logs and drops it; the connection keeps working."""
    bad = b"OPTIONS sip:\xff\xfe SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9\r\nContent-Length: 0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as sock:
        sock.sendall(bad + OPTIONS.format(port=stack.port, tag="after-bad").encode())
        assert _read_responses(sock, 1)[0].startswith(b"SIP/2.0 200 ")


def _read_responses(sock: socket.socket, count: int) -> list[bytes]:
    framer = SipStreamFramer()
    out: list[bytes] = []
    sock.settimeout(5)
    while len(out) < count:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {out}"
        framer.feed(chunk)
        out += _drain(framer)
    return out


def test_keepalives_split_and_pipelined_messages(stack: Stack) -> None:
    one = OPTIONS.format(port=stack.port, tag="one").encode()
    two = OPTIONS.format(port=stack.port, tag="two").encode()
    with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as sock:
        sock.sendall(b"\r\n\r\n")
        sock.sendall(one[:10])
        time.sleep(0.1)
        sock.sendall(one[10:60])
        time.sleep(0.1)
        sock.sendall(one[60:] + b"\r\n" + two)
        responses = _read_responses(sock, 2)
    assert all(r.startswith(b"SIP/2.0 200 ") for r in responses)
    assert b"Call-ID: one@raw" in responses[0]
    assert b"Call-ID: two@raw" in responses[1]


def test_idle_connection_is_closed(tmp_path: Path) -> None:
    s = Stack(tmp_path, idle_timeout=1.0)
    try:
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            started = time.monotonic()
            assert closed_by_peer(sock, timeout=10)
            assert 0.5 < time.monotonic() - started < 8
    finally:
        assert s.stop() == 0, s.log()


# -- limits: framer -------------------------------------------------------------
def test_framer_rejects_messages_over_the_size_limit() -> None:
    head = b"MESSAGE sip:a SIP/2.0\r\nContent-Length: %d\r\n\r\n"
    body = 2048 - len(head % 1000)  # a four-digit length: header and body make exactly 2048 bytes
    fits = head % body + b"x" * body
    assert len(fits) == 2048
    framer = SipStreamFramer(max_header_bytes=1024, max_message_bytes=2048)
    framer.feed(fits)
    assert framer.next_message() == fits
    framer.feed(head % (body + 1))  # one byte more: refused before any of the body arrives
    with pytest.raises(SipFramingError, match=r"message of 2049 bytes .* exceeds 2048") as info:
        framer.next_message()
    assert info.value.buffered == len(head % (body + 1))


def test_framer_counts_whole_keepalives_only() -> None:
    framer = SipStreamFramer()
    framer.feed(b"\r\n\r\n\r\n\r\n")
    assert framer.next_message() is None and framer.pings == 2
    framer.feed(b"\r\n")  # half a keep-alive is not one
    assert framer.next_message() is None and framer.pings == 2
    framer.feed(b"\r\n\r\nOPTIONS sip:a SIP/2.0\r\nl: 0\r\n\r\n")
    assert framer.next_message() is not None and framer.pings == 3


def test_framer_buffer_is_bounded_by_the_header_limit() -> None:
    framer = SipStreamFramer(max_header_bytes=1024, max_message_bytes=4096)
    with pytest.raises(SipFramingError, match="no end of headers"):
        for _ in range(2000):
            framer.feed(b"X")
            framer.next_message()
    assert framer.buffered == 1025


# -- limits: the real transport -----------------------------------------------------
def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def _options_ok(sock: socket.socket, port: int, tag: str) -> bool:
    try:
        sock.sendall(OPTIONS.format(port=port, tag=tag).encode())
        return _read_responses(sock, 1)[0].startswith(b"SIP/2.0 200 ")
    except (AssertionError, OSError):
        return False


def test_connection_caps_per_ip_and_in_total(tmp_path: Path) -> None:
    s = Stack(tmp_path, 600.0, "--max-connections", "3", "--max-per-ip", "2")
    try:
        a1, a2 = _connect(s.port), _connect(s.port)
        assert _options_ok(a1, s.port, "a1") and _options_ok(a2, s.port, "a2")
        a3 = _connect(s.port)  # a third from 127.0.0.1: over the per-IP cap
        assert closed_by_peer(a3)
        b1 = _connect(s.port, "127.0.0.2")  # another address still gets in (3 in total)
        assert _options_ok(b1, s.port, "b1")
        c1 = _connect(s.port, "127.0.0.3")  # over the total cap
        assert closed_by_peer(c1)
        assert _options_ok(a1, s.port, "a1-again")  # the admitted ones are unaffected
        a2.close()
        time.sleep(0.3)
        a4 = _connect(s.port)  # a closed connection frees its place
        assert _options_ok(a4, s.port, "a4")
        for sock in (a1, a3, b1, c1, a4):
            sock.close()
    finally:
        assert s.stop() == 0, s.log()
    assert "connection limits (3 in total, 2 per IP) reached" in s.log_path.read_text(errors="replace")


def test_dribbled_bytes_do_not_reset_the_idle_timer(tmp_path: Path) -> None:
    """One byte of a never-finished message every 0.2 s: closed after the 1 s timeout all the same."""
    s = Stack(tmp_path, idle_timeout=1.0)
    try:
        with _connect(s.port) as sock:
            started = time.monotonic()
            closed = False
            for byte in b"OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9\r\n" * 10:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    closed = True
                    break
                time.sleep(0.2)
                if time.monotonic() - started > 8:
                    break
            assert closed or closed_by_peer(sock, timeout=0.5)
            assert 0.8 < time.monotonic() - started < 4
    finally:
        assert s.stop() == 0, s.log()


def test_complete_messages_and_keepalives_reset_the_idle_timer(tmp_path: Path) -> None:
    s = Stack(tmp_path, idle_timeout=1.0)
    try:
        with _connect(s.port) as sock:
            for i in range(5):  # 2.5 s in all, never 1 s without a complete message
                time.sleep(0.5)
                assert _options_ok(sock, s.port, f"keep-{i}")
            for _ in range(4):
                time.sleep(0.5)
                sock.sendall(b"\r\n\r\n")
                assert sock.recv(16) == b"\r\n"  # the RFC 5626 pong
            assert _options_ok(sock, s.port, "still-open")
            assert closed_by_peer(sock, timeout=5)  # and now silence: closed
    finally:
        assert s.stop() == 0, s.log()


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param(b"OPTIONS sip:x SIP/2.0\r\n" + b"X-Pad: " + b"a" * 5000 + b"\r\n", id="header-over-4k"),
        pytest.param(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 9000\r\n\r\n" + b"b" * 100, id="body-over-8k"),
    ],
)
def test_oversized_messages_close_the_connection(tmp_path: Path, hostile: bytes) -> None:
    s = Stack(tmp_path, 600.0, "--max-header", "4096", "--max-message", "8192")
    try:
        with _connect(s.port) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(hostile)
            assert closed_by_peer(sock)
        with _connect(s.port) as sock:
            assert _options_ok(sock, s.port, "after")
    finally:
        assert s.stop() == 0, s.log()
