"""The call service driven at its ports: a SIP call whose sippy side is a recording fake, a real store, bus and
RTP port. Answer, reject, hold, abandon and ending from our side, without a SIP stack or a server process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from calls.bus import EventBus
from calls.context import AppContext
from calls.service import CallService
from core.metrics import Metrics
from media.ports import PortAllocator
from store.store import Store
from tests.support.net import free_range
from voice.call import CallerInfo, SipCall
from voice.events import Acked, Reinvite, RemoteHangup

OFFER = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio {port} RTP/AVP {pts}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:18 G729/8000\r\n"
         "a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n")


def offer(pts: str = "0 101", port: int = 40100, direction: str = "sendrecv") -> str:
    return OFFER.format(pts=pts, port=port, direction=direction)


class FakeUa:
    """The sippy-thread side of one call, faked: records every command the service sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        if name not in ("ring", "answer", "reject", "accept_update", "hangup"):
            raise AttributeError(name)
        return lambda *args: self.sent.append((name, args))

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]


def fake_sip_call(sdp: str | None) -> tuple[SipCall, FakeUa]:
    """A real :class:`voice.call.SipCall` whose commands run at once on a :class:`FakeUa`."""
    ua = FakeUa()
    info = CallerInfo("sip-call-1", "alice", "+380441234567", "Alice", "100", ("127.0.0.1", 5062))
    return SipCall(info, sdp, lambda fn, *args: fn(*args), ua), ua


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    low, high = free_range(8)
    settings = Settings.model_validate({"asr": {"enabled": False}, "routing": {"enabled": False},
                                        "media": {"rtp_port_min": low, "rtp_port_max": high, "greeting": None},
                                        "sip": {"ring_ms": 0}})
    store = Store(f"sqlite:///{tmp_path / 'calls.db'}")
    store.migrate()
    yield AppContext(settings, store, EventBus(), Metrics(), PortAllocator(low, high))
    store.close()


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _types(ctx: AppContext, svc: CallService) -> list[str]:
    return [e["type"] for e in ctx.bus.history(svc.id)]


async def _stored(ctx: AppContext, svc: CallService) -> Any:
    return await ctx.store.run(ctx.store.calls.get, svc.id)


async def _answered(ctx: AppContext) -> tuple[SipCall, FakeUa, CallService, asyncio.Task[None]]:
    """A call offered with PCMU, running until the service has sent its 200."""
    call, ua = fake_sip_call(offer())
    svc = CallService(ctx, call)
    task = asyncio.get_running_loop().create_task(svc.run())
    await _until(lambda: "answer" in ua.names())
    return call, ua, svc, task


@pytest.mark.asyncio
async def test_unparseable_sdp_is_refused_with_488_and_the_call_is_recorded(ctx: AppContext) -> None:
    call, ua = fake_sip_call("this is not SDP")
    svc = CallService(ctx, call)
    await svc.run()
    assert ua.sent[0][0] == "reject" and ua.sent[0][1][0] == 488
    row = await _stored(ctx, svc)
    assert (row.state, row.end_reason) == ("ended", "rejected_sdp")
    assert _types(ctx, svc) == ["state", "state"] and ctx.bus.history(svc.id)[-1]["reason"] == "rejected_sdp"
    assert ctx.ports.in_use == 0


@pytest.mark.asyncio
async def test_an_offer_with_no_common_codec_gets_488_with_a_warning(ctx: AppContext) -> None:
    call, ua = fake_sip_call(offer("18"))
    svc = CallService(ctx, call)
    await svc.run()
    code, _, headers = ua.sent[0][1]
    assert (ua.sent[0][0], code) == ("reject", 488) and "Incompatible media format" in headers["Warning"]
    assert (await _stored(ctx, svc)).end_reason == "rejected_codec"


@pytest.mark.asyncio
async def test_answered_connected_then_ended_from_our_side(ctx: AppContext) -> None:
    call, ua, svc, task = await _answered(ctx)
    assert ua.names()[:2] == ["ring", "answer"]  # 180 always precedes the 200
    answer = ua.sent[1][1][0]
    assert f"m=audio {svc.session.port} RTP/AVP 0" in answer and "PCMU/8000" in answer  # type: ignore[union-attr]
    call.events.put_nowait(Acked(None))
    await _until(lambda: "connected" in [e.get("state") for e in ctx.bus.history(svc.id)])
    svc.end("agent_hangup")
    await asyncio.wait_for(task, 5)
    assert ua.names()[-1] == "hangup"
    row = await _stored(ctx, svc)
    assert (row.state, row.end_reason, row.codec) == ("ended", "agent_hangup", "PCMU")
    assert ctx.bus.history(svc.id)[-1]["reason"] == "agent_hangup" and ctx.ports.in_use == 0
    svc.end("shutdown")  # ending twice changes nothing
    assert ua.names().count("hangup") == 1


@pytest.mark.asyncio
async def test_a_caller_who_hangs_up_before_the_ack_has_abandoned(ctx: AppContext) -> None:
    call, ua, svc, task = await _answered(ctx)
    call.events.put_nowait(RemoteHangup("bye"))
    await asyncio.wait_for(task, 5)
    assert (await _stored(ctx, svc)).end_reason == "abandoned"
    assert "hangup" not in ua.names()  # the caller already left


@pytest.mark.asyncio
async def test_hold_and_unhold_are_answered_and_on_the_timeline(ctx: AppContext) -> None:
    call, ua, svc, task = await _answered(ctx)
    call.events.put_nowait(Acked(None))
    call.events.put_nowait(Reinvite(offer(direction="sendonly")))
    call.events.put_nowait(Reinvite(offer()))
    call.events.put_nowait(Reinvite(offer("18")))  # a codec we cannot take: refused, the call goes on
    await _until(lambda: ua.names().count("accept_update") == 2 and ua.names()[-1] == "reject")
    assert ua.sent[-1][1][0] == 488
    call.events.put_nowait(RemoteHangup("bye"))
    await asyncio.wait_for(task, 5)
    events = await ctx.store.run(ctx.store.calls.events, svc.id)
    assert [e["type"] for e in events] == ["hold", "unhold"]
    assert (await _stored(ctx, svc)).end_reason == "caller_hangup"
    assert "a=sendonly" in ua.sent[2][1][0] or "a=recvonly" in ua.sent[2][1][0]  # answered as held
