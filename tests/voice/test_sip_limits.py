"""Per-source rate limits and the server's Contact, against a real SipStack in this process over loopback.

Sources are 127.0.0.x addresses (raw sockets bound to them): 127.0.0.1 is the one trusted peer, so it is
exempt from the limits by default; every other address is an ordinary caller. Limits are tiny (INVITE:
burst 5, then one every 2 s; REGISTER: burst 3, then one every 2 s) so they are reached at once, and the
log interval is long, so each limit logs exactly one line while these tests run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.support.net import free_port
from tests.voice import sipmsg
from tests.voice.sipmsg import Dialog, Message, TcpPeer, UdpPeer
from voice import digest
from voice.call import SipCall
from voice.events import Acked, CallEvent
from voice.registrar import Credentials, Registrar
from voice.settings import SipSettings
from voice.stack import SipStack

BURST, RATE = 5, 0.5
REG_BURST = 3
PASSWORD = "pw-alice"


@dataclass
class Seen:
    """Calls and their events, as the asyncio side received them."""

    calls: list[SipCall] = field(default_factory=list)
    events: list[tuple[str, CallEvent]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, call_id: str, event: CallEvent) -> None:
        with self.cond:
            self.events.append((call_id, event))
            self.cond.notify_all()

    def wait_acked(self, call_id: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not any(c == call_id and isinstance(e, Acked) for c, e in self.events):
                left = deadline - time.monotonic()
                assert left > 0, f"no ACK reached the call {call_id}; events {self.events}"
                self.cond.wait(left)


@dataclass
class Server:
    stack: SipStack
    port: int
    seen: Seen

    @property
    def addr(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def uri(self, user: str, transport: str = "udp") -> str:
        return f"sip:{user}@127.0.0.1:{self.port}" + (";transport=tcp" if transport == "tcp" else "")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-asyncio", daemon=True)
    thread.start()
    seen = Seen()
    followers: set[asyncio.Task[None]] = set()

    async def follow(call: SipCall) -> None:
        while True:
            seen.add(call.info.sip_call_id, await call.events.get())

    def on_call(call: SipCall) -> None:
        seen.calls.append(call)
        if call.info.called == "answer":
            call.ring()
            call.answer(sipmsg.SDP_PCMU)
            task = loop.create_task(follow(call))
            followers.add(task)
            task.add_done_callback(followers.discard)
        else:
            call.reject(486, "Busy Here")

    port = free_port()
    settings = SipSettings(port=port, trusted_peers=["127.0.0.1/32"], invite_rate_per_s=RATE, invite_burst=BURST,
                           register_rate_per_s=RATE, register_burst=REG_BURST, rate_limit_log_interval_s=300)
    creds = Credentials()
    creds.set_password("alice", settings.realm, PASSWORD)
    stack = SipStack(settings, loop, on_call, registrar=Registrar(settings, creds))
    stack.start()
    yield Server(stack, port, seen)
    stack.stop()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def finals(msgs: list[Message]) -> dict[str, Message]:
    """The first final response per Call-ID."""
    out: dict[str, Message] = {}
    for m in msgs:
        if m.code >= 200:
            out.setdefault(m.header("call-id") or "", m)
    return out


def flood(server: Server, ip: str, count: int, method: str = "INVITE") -> tuple[list[str], dict[str, Message]]:
    """``count`` new requests from ``ip`` back to back; their Call-IDs and the final answers within 2 s."""
    peer = UdpPeer(server.addr, ip)
    try:
        ids = []
        for _ in range(count):
            d = Dialog()
            ids.append(d.call_id)
            if method == "INVITE":
                peer.send(sipmsg.invite(server.uri("busy"), peer.local, d))
            else:
                peer.send(sipmsg.request("REGISTER", f"sip:127.0.0.1:{server.port}", peer.local, dialog=d,
                                         to_uri=f"sip:alice@127.0.0.1:{server.port}", headers=("Expires: 60",)))
        return ids, finals(peer.collect(2.0))
    finally:
        peer.close()


# -- rate limits ----------------------------------------------------------------------------------------
def test_invite_flood_gets_503_then_silence_and_others_get_through(server: Server,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hotline.sip.limit")
    ids, answers = flood(server, "127.0.0.31", 4 * BURST)
    codes = [answers[i].code if i in answers else None for i in ids]
    assert codes == [486] * BURST + [503] * BURST + [None] * (2 * BURST), codes  # allowed, refused, dropped
    retry = {answers[i].header("retry-after") for i in ids[BURST:2 * BURST]}
    assert retry == {"2"}, retry  # one token comes every 1 / 0.5 s
    # a normal caller from another address is not affected, and its call confirms
    place_call(server, "127.0.0.32", "udp")
    # the flooding address itself gets a new INVITE through once a token has come back
    time.sleep(1 / RATE + 0.2)
    ids, answers = flood(server, "127.0.0.31", 1)
    assert answers[ids[0]].code == 486
    lines = [r.getMessage() for r in caplog.records if "INVITE rate limit" in r.getMessage()]
    assert len(lines) == 1 and "127.0.0.31" in lines[0], lines  # once per interval, however many refusals


def test_register_flood_gets_503_then_silence_and_others_register(server: Server) -> None:
    ids, answers = flood(server, "127.0.0.33", 3 * REG_BURST, "REGISTER")
    codes = [answers[i].code if i in answers else None for i in ids]
    assert codes == [401] * REG_BURST + [503] * REG_BURST + [None] * REG_BURST, codes
    assert register(server, "127.0.0.34").code == 200


def test_trusted_peers_are_not_limited_by_default(server: Server) -> None:
    ids, answers = flood(server, "127.0.0.1", 3 * BURST)
    assert [answers[i].code for i in ids] == [486] * (3 * BURST)


def register(server: Server, ip: str) -> Message:
    """A full digest REGISTER of alice from ``ip``."""
    peer = UdpPeer(server.addr, ip)
    ruri, aor = f"sip:127.0.0.1:{server.port}", f"sip:alice@127.0.0.1:{server.port}"
    d = Dialog()
    try:
        peer.send(sipmsg.request("REGISTER", ruri, peer.local, dialog=d, to_uri=aor))
        challenge = peer.wait_for(sipmsg.code_of(d.call_id, 401)).header("www-authenticate") or ""
        _, ch = digest.parse_params(challenge)
        h = digest.ha1("alice", ch["realm"], PASSWORD)
        resp = digest.compute_response(h, "REGISTER", ruri, ch["nonce"], qop="auth", nc="00000001", cnonce="abc")
        auth = (f'Authorization: Digest username="alice", realm="{ch["realm"]}", nonce="{ch["nonce"]}", '
                f'uri="{ruri}", response="{resp}", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc", '
                f'opaque="{ch["opaque"]}"')
        peer.send(sipmsg.request("REGISTER", ruri, peer.local, dialog=d, to_uri=aor, cseq=2,
                                 headers=(auth, "Expires: 60")))
        return peer.wait_for(sipmsg.final(d.call_id, "REGISTER"))
    finally:
        peer.close()


# -- the server's Contact ----------------------------------------------------------------------------------
def place_call(server: Server, ip: str, transport: str) -> None:
    """INVITE, check the Contact of 180 and 200, ACK to that Contact taken verbatim, BYE."""
    peer: UdpPeer | TcpPeer = UdpPeer(server.addr, ip) if transport == "udp" else TcpPeer(server.addr, ip)
    d = Dialog()
    try:
        peer.send(sipmsg.invite(server.uri("answer", transport), peer.local, d, transport=transport.upper()))
        ringing = peer.wait_for(sipmsg.code_of(d.call_id, 180))
        ok = peer.wait_for(sipmsg.code_of(d.call_id, 200))
        expected = f"<sip:hotline@127.0.0.1:{server.port}" + (";transport=tcp>" if transport == "tcp" else ">")
        assert ringing.header("contact") == ok.header("contact") == expected
        # a naive UA: the ACK's Request-URI is the whole Contact value without its angle brackets
        target = (ok.header("contact") or "").removeprefix("<").removesuffix(">")
        tag = re.search(r";tag=([^;>\s]+)", ok.header("to") or "")
        assert tag is not None
        d.to_tag = tag.group(1)
        peer.send(sipmsg.request("ACK", target, peer.local, dialog=d, transport=transport.upper(),
                                 to_uri=server.uri("answer", transport)))
        server.seen.wait_acked(d.call_id)
        peer.send(sipmsg.request("BYE", target, peer.local, dialog=d, transport=transport.upper(), cseq=2,
                                 to_uri=server.uri("answer", transport)))
        assert peer.wait_for(sipmsg.final(d.call_id, "BYE")).code == 200
    finally:
        peer.close()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_contact_has_a_user_part_and_no_display_name(server: Server, transport: str) -> None:
    place_call(server, "127.0.0.1", transport)
