"""Hand-made SIP messages over raw UDP and TCP sockets, for tests that need exact control of the bytes."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from voice.tcp import SipStreamFramer

SDP_PCMU = (
    "v=0\r\n"
    "o=raw 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)

Pred = Callable[["Message"], bool]
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
            "c": "content-type"}


@dataclass
class Message:
    """A parsed SIP message: start line, headers by lower-case (long) name in order, and body."""

    start: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    @property
    def code(self) -> int:
        """The status code of a response (0 for a request)."""
        parts = self.start.split(" ", 2)
        return int(parts[1]) if parts[0] == "SIP/2.0" and len(parts) > 1 and parts[1].isdigit() else 0

    def header(self, name: str) -> str | None:
        """The first value of ``name`` (long form, any case), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse(data: bytes) -> Message:
    """Split one SIP message (no validation beyond what the tests need)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    msg = Message(lines[0], body=body)
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        msg.headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return msg


@dataclass
class Dialog:
    """What identifies one client transaction or dialog we start."""

    call_id: str = field(default_factory=lambda: f"{uuid.uuid4().hex}@raw")
    from_tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    to_tag: str | None = None


def request(method: str, ruri: str, local: tuple[str, int], *, dialog: Dialog | None = None, transport: str = "UDP",
            cseq: int = 1, to_uri: str | None = None, body: str = "", headers: tuple[str, ...] = (),
            cseq_method: str | None = None) -> bytes:
    """A request from ``local`` (our address, in Via and Contact)."""
    d = dialog or Dialog()
    host, port = local
    to = f"<{to_uri or ruri}>" + (f";tag={d.to_tag}" if d.to_tag else "")
    lines = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/{transport} {host}:{port};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport",
        f"From: <sip:raw@{host}>;tag={d.from_tag}",
        f"To: {to}",
        f"Call-ID: {d.call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        f"Contact: <sip:raw@{host}:{port};transport={transport.lower()}>",
        "Max-Forwards: 70",
        *headers,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def invite(ruri: str, local: tuple[str, int], dialog: Dialog | None = None, transport: str = "UDP",
           sdp: str = SDP_PCMU) -> bytes:
    """An INVITE with an SDP offer (PCMU by default)."""
    return request("INVITE", ruri, local, dialog=dialog, transport=transport, body=sdp)


class UdpPeer:
    """A UDP socket bound to ``ip`` that talks to one server."""

    def __init__(self, server: tuple[str, int], ip: str = "127.0.0.1") -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.local: tuple[str, int] = self.sock.getsockname()[:2]

    def send(self, data: bytes) -> None:
        """One datagram to the server."""
        self.sock.sendto(data, self.server)

    def collect(self, seconds: float, until: int | None = None, idle: float | None = None) -> list[Message]:
        """Every message received within ``seconds``, or until ``until`` came, or none came for ``idle`` s."""
        out: list[Message] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and (until is None or len(out) < until):
            self.sock.settimeout(left if idle is None else min(left, idle))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            out.append(parse(data))
        return out

    def wait_for(self, pred: Pred, seconds: float = 5.0) -> Message:
        """The first message for which ``pred(msg)`` is true."""
        deadline = time.monotonic() + seconds
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            for msg in self.collect(left, until=1):
                if pred(msg):
                    return msg
                seen.append(msg.start)
        raise AssertionError(f"no matching message within {seconds} s; got {seen}")

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


class TcpPeer:
    """A TCP connection to one server, framed with the project's own framer."""

    def __init__(self, server: tuple[str, int] | None, ip: str = "127.0.0.1", *,
                 sock: socket.socket | None = None) -> None:
        """Connect to ``server`` from ``ip``, or take over the connected ``sock``."""
        if sock is None:
            assert server is not None
            sock = socket.create_connection(server, timeout=5, source_address=(ip, 0))
        self.sock = sock
        self.local: tuple[str, int] = self.sock.getsockname()[:2]
        self._framer = SipStreamFramer()

    def send(self, data: bytes) -> None:
        """Bytes onto the stream."""
        self.sock.sendall(data)

    def wait_for(self, pred: Pred, seconds: float = 5.0) -> Message:
        """The first message for which ``pred(msg)`` is true."""
        deadline = time.monotonic() + seconds
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            while (raw := self._framer.next_message()) is not None:
                msg = parse(raw)
                if pred(msg):
                    return msg
                seen.append(msg.start)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                raise AssertionError(f"connection closed; got {seen}")
            self._framer.feed(chunk)
        raise AssertionError(f"no matching message within {seconds} s; got {seen}")

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


def final(call_id: str, method: str = "INVITE") -> Pred:
    """A predicate: the final response (>= 200) of ``method`` in ``call_id``."""
    def pred(msg: Message) -> bool:
        cseq = msg.header("cseq") or ""
        return msg.code >= 200 and msg.header("call-id") == call_id and cseq.endswith(method)
    return pred


def code_of(call_id: str, code: int) -> Pred:
    """A predicate: a response with ``code`` in ``call_id``."""
    return lambda msg: msg.code == code and msg.header("call-id") == call_id
