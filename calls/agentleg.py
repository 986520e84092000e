"""The agent side of a call: ring the agent's phone, then their media, recognition and SIP events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from asr.stream import RecognitionUnavailableError
from callcenter.presence import AgentPresence
from calls.context import AppContext
from calls.recognition import LegRecognition
from media.bridge import Bridge
from media.frame import AudioFrame
from media.sdp import SdpBuilder, SdpError, negotiate, parse_offer
from media.session import RtpSession
from voice.agentcall import OutboundCall
from voice.events import Answered, CallEvent, Failed, ReferRequested, Reinvite, RemoteHangup

log = logging.getLogger("hotline.call")
AGENT = "agent"


@dataclass(frozen=True, slots=True)
class RingOutcome:
    """How an offer ended: ``answered``, ``no_answer``, ``failed`` (with SIP code) or ``no_phone``."""

    result: str
    code: int = 0
    detail: str = ""


class AgentLeg:
    """One offer to one agent; once answered, the agent's half of the bridged call."""

    def __init__(self, ctx: AppContext, agent: AgentPresence, language: str,
                 on_dtmf: Callable[[str, float], None], consume: Callable[[LegRecognition], None]) -> None:
        self.ctx = ctx
        self.agent = agent
        self.language = language
        self.session: RtpSession | None = None
        self.call: OutboundCall | None = None
        self.bridge: Bridge | None = None
        self.asr = LegRecognition(AGENT, ctx.settings.media)
        self.sdp = SdpBuilder(ctx.settings.media.rtp_host, user_agent=ctx.settings.sip.user_agent)
        self._on_dtmf = on_dtmf
        self._consume = consume
        self.answered = False
        self.closed = False

    async def ring(self, codecs: list[str], caller: str, display: str | None) -> RingOutcome:
        """INVITE the agent's registered phone and wait for an answer, a failure or the no-answer timeout."""
        ctx = self.ctx
        binding = ctx.registrar.lookup(self.agent.username) if ctx.registrar is not None else None
        if binding is None or ctx.sip is None:
            return RingOutcome("no_phone", detail="no registered phone")
        depth = max(1, ctx.settings.media.jitter_buffer_ms // 20)
        _, session, port = await ctx.ports.bind(ctx.settings.media.rtp_host,
                                                RtpSession(AGENT, self._on_frame, self._on_dtmf, depth,
                                                           latch=ctx.settings.media.latch_config(),
                                                           signalling_host=binding.host))
        session.port = port
        self.session = session
        callee = getattr(binding, "contact_user", None) or self.agent.username
        self.call = ctx.sip.originate((binding.host, binding.port), binding.transport, callee, caller, display,
                                      self.sdp.offer(port, codecs))
        deadline = asyncio.get_running_loop().time() + ctx.settings.routing.no_answer_s
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                event = await asyncio.wait_for(self.call.events.get(), max(0.0, left))
            except TimeoutError:
                return RingOutcome("no_answer")
            if isinstance(event, Answered):
                return self._answered(event.sdp, codecs)
            if isinstance(event, Failed):
                return RingOutcome("failed", event.code, event.reason)
            if isinstance(event, RemoteHangup):
                return RingOutcome("failed", 0, f"ended before answer ({event.reason})")

    def _answered(self, sdp: str | None, codecs: list[str]) -> RingOutcome:
        assert self.session is not None
        try:
            self.session.configure(negotiate(parse_offer(sdp or ""), codecs))
        except SdpError as exc:
            log.info("agent %s answered with unusable SDP: %s", self.agent.agent_id, exc)
            return RingOutcome("failed", 488, f"unusable answer SDP: {exc}")
        self.answered = True
        self._start_recognition()
        return RingOutcome("answered")

    def join(self, caller: RtpSession) -> Bridge:
        """Bridge the agent's media with the caller's."""
        assert self.session is not None
        self.bridge = Bridge(caller, self.session)
        self.bridge.start()
        return self.bridge

    async def next_event(self) -> CallEvent:
        """The agent phone's next SIP event (re-INVITEs are answered here)."""
        assert self.call is not None and self.session is not None
        while True:
            event = await self.call.events.get()
            if isinstance(event, Reinvite):
                self._reinvite(event.sdp)
                continue
            if isinstance(event, RemoteHangup | ReferRequested | Failed):
                return event

    def _reinvite(self, sdp: str | None) -> None:
        assert self.call is not None and self.session is not None
        try:
            neg = negotiate(parse_offer(sdp or ""), self.ctx.settings.media.codecs)
        except SdpError:
            return
        self.session.configure(neg)
        self.call.accept_update(self.sdp.answer(self.session.port, neg))

    # -- media ------------------------------------------------------------------
    def _on_frame(self, frame: AudioFrame) -> None:
        self.asr.push(frame)

    def _start_recognition(self) -> None:
        engine = self.ctx.engine
        if engine is None or not self.ctx.settings.asr.enabled:
            return
        try:
            self.asr.open(engine, self.language)
        except RecognitionUnavailableError as exc:
            log.info("agent leg not transcribed: %s", exc)
            return
        self._consume(self.asr)

    async def close(self, hangup: bool = True) -> None:
        """Unbridge, hang up (CANCEL/BYE) unless the phone already did, end recognition, free the port."""
        if self.closed:
            return
        self.closed = True
        if self.bridge is not None:
            self.bridge.stop()
        if hangup and self.call is not None:
            self.call.hangup()
        if self.session is not None:
            self.session.flush()
            self.session.close()
            self.ctx.ports.release(self.session.port)
        self.asr.end()
        self.ctx.metrics.asr_audio.inc(self.asr.speech_frames * 0.02)

