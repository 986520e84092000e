"""One inbound call end to end: SDP, RTP, greeting, VAD, recognition, store, events."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from asr.events import FinalTranscript, PartialTranscript
from asr.stream import RecognitionUnavailableError, RecognizeStream
from calls.context import AppContext
from calls.hints import CallHints
from calls.profile import CallProfile
from calls.recognition import LegRecognition
from calls.routing import CallRouting
from core.clock import utcnow
from core.events import (
    CallEventModel,
    CallStateChanged,
    Dtmf,
    FinalSegment,
    Hold,
    MediaStarted,
    PartialSegment,
    ReasonHeard,
    RecognitionStatus,
    Unhold,
    VerificationResult,
    Word,
)
from core.logctx import current_call_id
from media.frame import AudioFrame
from media.ports import PortsExhaustedError
from media.recorder import LegRecorder
from media.sdp import AudioOffer, NoCommonCodecError, SdpBuilder, SdpError, negotiate, parse_offer
from media.session import RtpSession
from store.calls import SegmentRecord
from verification.passive import CallVerification
from voice.call import CallerInfo, SipCall
from voice.events import Acked, CallEvent, Reinvite, RemoteHangup
from voice.state import CallState, CallStateMachine

log = logging.getLogger("hotline.call")
CALLER = "caller"


class CallService:
    """Drives one call from INVITE to the last stored final."""

    def __init__(self, ctx: AppContext, call: SipCall) -> None:
        self.ctx = ctx
        self.call = call
        self.id = uuid.uuid4().hex
        self.state = CallStateMachine(self.id)
        self.language = ctx.language_for(call.info.called)
        self.session: RtpSession | None = None
        self.asr = LegRecognition(CALLER, ctx.settings.media)
        self.recorder: LegRecorder | None = None
        self.sdp = SdpBuilder(ctx.settings.media.rtp_host, user_agent=ctx.settings.sip.user_agent)
        self._media_seen = False
        self.verification = CallVerification(ctx.voiceprints, ctx.store, self.id, self._publish,
                                             call.info.number_trust)
        self._asr_tasks: list[asyncio.Task[None]] = []
        self.routing: CallRouting | None = None
        self.ended = False
        self._side_task: asyncio.Task[None] | None = None
        self.hints = (CallHints(ctx.hints, self._publish, ctx.metrics.hint_latency.observe, self._store_event)
                      if ctx.hints else None)
        self.profile = CallProfile(ctx.store, self.id, self._publish, self.verification, self.hints)
        self._ending: asyncio.Future[str] | None = None  # set by end(): the call is ended from our side

    # -- lifecycle -------------------------------------------------------------
    async def run(self) -> None:
        """Handle the call until it ends; never raises."""
        info = self.call.info
        current_call_id.set(self.id)  # this task and the tasks it starts log with the call id
        self.ctx.active[self.id] = self
        self.ctx.metrics.active_calls.inc()
        reason = "error"
        try:
            # queued, not awaited: the caller is answered without waiting for the disk (writes stay in order)
            self.ctx.store.submit(self.ctx.store.calls.create, self.id, info.sip_call_id,
                                  info.caller_number or info.caller_user, info.caller_display, info.called,
                                  self.language, info.number_trust)
            self._publish(CallStateChanged(state="offered", caller=info.caller_number or info.caller_user,
                                           called=info.called, number_trust=info.number_trust))
            log.info("INVITE from %s to %s (sip call-id %s)", info.caller_number or info.caller_user,
                          info.called, info.sip_call_id)
            reason = await self._answer_and_serve()
        except Exception:
            log.exception("call failed")
            self.call.hangup()
        finally:
            await self._finish(reason)

    async def _answer_and_serve(self) -> str:
        offer: AudioOffer | None = None
        if self.call.offer_sdp is not None:
            try:
                offer = parse_offer(self.call.offer_sdp)
                neg = negotiate(offer, self.ctx.settings.media.codecs)
            except NoCommonCodecError as exc:
                log.info("rejecting: %s", exc)
                self.call.reject(488, "Not Acceptable Here", {"Warning": '304 hotline "Incompatible media format"'})
                self.ctx.metrics.calls_rejected.labels("488").inc()
                return "rejected_codec"
            except SdpError as exc:
                log.info("rejecting bad SDP: %s", exc)
                self.call.reject(488, "Not Acceptable Here")
                self.ctx.metrics.calls_rejected.labels("488").inc()
                return "rejected_sdp"
        try:
            depth = max(1, self.ctx.settings.media.jitter_buffer_ms // 20)
            _, session, port = await self.ctx.ports.bind(
                self.ctx.settings.media.rtp_host,
                RtpSession(CALLER, self._on_frame, self._on_dtmf, depth, latch=self.ctx.settings.media.latch_config(),
                           signalling_host=self.call.info.source[0]),
            )
        except PortsExhaustedError:
            self.call.reject(503, "Service Unavailable", {"Retry-After": str(self.ctx.settings.sip.retry_after_s)})
            self.ctx.metrics.calls_rejected.labels("503").inc()
            return "no_media_ports"
        self.session = session
        session.port = port
        self.state.to(CallState.RINGING)
        self.call.ring()  # 180 always precedes the 200; ring_ms only adds a pause
        if self.ctx.settings.sip.ring_ms:
            try:  # the caller may give up (CANCEL) while it rings
                event = await asyncio.wait_for(self.call.events.get(), self.ctx.settings.sip.ring_ms / 1000)
            except TimeoutError:
                event = None
            if isinstance(event, RemoteHangup):
                return "abandoned"
        if self._ending is not None and self._ending.done():  # shut down while it rang
            return self._ending.result()
        if offer is not None:
            neg = negotiate(offer, self.ctx.settings.media.codecs)
            session.configure(neg)
            body = self.sdp.answer(port, neg)
        else:
            body = self.sdp.offer(port, self.ctx.settings.media.codecs)
        self._begin_media()  # before the 200 goes out: the caller's first packets may beat the ACK
        self.call.answer(body)
        self.state.to(CallState.ANSWERED)
        return await self._serve(offer is None)

    async def _serve(self, late_offer: bool) -> str:
        assert self.session is not None
        while True:
            event = await self._next_event()
            if isinstance(event, str):  # ended from our side (agent hang-up, shut-down)
                return event
            if event is None:
                if self._rtp_timed_out():
                    log.info("no RTP for %.0f s: hanging up", self.ctx.settings.media.rtp_timeout_s)
                    self.call.hangup()
                    return "rtp_timeout"
                continue
            if isinstance(event, RemoteHangup):
                return "caller_hangup" if self.state.state in (CallState.CONNECTED, CallState.HELD) else "abandoned"
            if isinstance(event, Acked) and self.state.state == CallState.ANSWERED:
                if late_offer and not self._apply_late_answer(event.sdp):
                    self.call.hangup()
                    return "rejected_codec"
                await self._connected()
            elif isinstance(event, Reinvite):
                self._reinvite(event.sdp)

    async def _next_event(self) -> CallEvent | str | None:
        """The caller's next SIP event, the reason given to :meth:`end`, or None after a second of neither."""
        ending = self._ending_future()
        if ending.done():
            return ending.result()
        get: asyncio.Future[CallEvent] = asyncio.ensure_future(self.call.events.get())
        waiting: set[asyncio.Future[Any]] = {get, ending}
        done, _ = await asyncio.wait(waiting, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        if get in done:
            return get.result()
        get.cancel()  # nothing is lost: a cancelled get takes no item off the queue
        return ending.result() if ending.done() else None

    def _ending_future(self) -> asyncio.Future[str]:
        if self._ending is None:
            self._ending = asyncio.get_running_loop().create_future()
        return self._ending

    def _apply_late_answer(self, sdp: str | None) -> bool:
        assert self.session is not None
        try:
            neg = negotiate(parse_offer(sdp or ""), self.ctx.settings.media.codecs)
        except SdpError as exc:
            log.info("late-offer answer unusable: %s", exc)
            return False
        self.session.configure(neg)
        return True

    async def _connected(self) -> None:
        assert self.session is not None
        connected_at = asyncio.get_running_loop().time()  # the caller's ACK: time to agent counts from here
        self.state.to(CallState.CONNECTED)
        neg = self.session.negotiated
        codec = neg.codec.name if neg else None
        self._store_update(state="connected", answered_at=utcnow(), codec=codec)
        self._publish(CallStateChanged(state="connected", codec=codec))
        greeting = None
        if self.ctx.greeting is not None and neg is not None:
            greeting = self.session.play(self.ctx.greeting.payloads(neg.codec.name))
        customer = await self.profile.by_phone(self.call.info.caller_number)  # one read: queue priority needs it
        if self.ctx.router is not None:
            self.routing = CallRouting(self, self.ctx)
            try:
                await self.routing.start(greeting, connected_at, customer)
            except Exception:
                log.exception("could not queue the call")
        # verification claim, timeline and hints do not hold up the queue
        self._side_task = asyncio.get_running_loop().create_task(self.profile.open(customer))

    def _begin_media(self) -> None:
        """Start everything that consumes the caller's audio (recognition, recording)."""
        if self.ctx.settings.media.record_calls:
            self.recorder = LegRecorder(self.ctx.settings.media.record_dir / f"{self.id}-{CALLER}.wav")
        self._start_recognition()

    def _reinvite(self, sdp: str | None) -> None:
        assert self.session is not None
        try:
            offer = parse_offer(sdp or "")
            neg = negotiate(offer, self.ctx.settings.media.codecs)
        except SdpError as exc:
            log.info("re-INVITE refused: %s", exc)
            self.call.refuse_update(488, "Not Acceptable Here")
            return
        self.session.configure(neg)
        self.call.accept_update(self.sdp.answer(self.session.port, neg))
        held = offer.on_hold
        if held and self.state.can(CallState.HELD):
            self.state.to(CallState.HELD)
        elif not held and self.state.state == CallState.HELD:
            self.state.to(CallState.CONNECTED)
        self._record(Hold() if held else Unhold())

    def _rtp_timed_out(self) -> bool:
        limit = self.ctx.settings.media.rtp_timeout_s
        if not limit or self.session is None or self.state.state != CallState.CONNECTED:
            return False
        return asyncio.get_running_loop().time() - self.session.last_rx > limit

    # -- media callbacks (asyncio thread, per frame: keep cheap) ------------------
    def _on_frame(self, frame: AudioFrame) -> None:
        if not self._media_seen:
            self._media_seen = True
            self._publish(MediaStarted(first_frame_at=time.time()))  # wall clock of the caller's first audio
        if self.recorder is not None:
            self.recorder.write(frame)
        self.verification.push(frame)
        self.asr.push(frame)

    def _on_dtmf(self, digit: str, at: float) -> None:
        self._record(Dtmf(digit=digit, at=at))

    # -- recognition ---------------------------------------------------------------
    def _start_recognition(self) -> None:
        engine = self.ctx.engine
        status, note = "ok", None
        if not self.ctx.settings.asr.enabled:
            status, note = "off", "recognition disabled in config"
        elif engine is None:
            status, note = "unavailable", self.ctx.engine_note or "no recognition engine"
        else:
            try:
                self.asr.open(engine, self.language)
            except RecognitionUnavailableError as exc:
                status, note = "unavailable", str(exc)
        if self.asr.stream is not None:
            self.consume(self.asr)
        elif self.session is not None and not self.ctx.settings.media.record_calls and self.ctx.voiceprints is None:
            self.session.decode_audio = False  # nothing consumes the audio
        self._store_update(recognition=status, recognition_note=note)
        self._publish(RecognitionStatus(status=status, note=note))

    async def _consume(self, stream: RecognizeStream, rec: LegRecognition) -> None:
        try:
            async for ev in stream:
                if isinstance(ev, PartialTranscript):
                    self._publish(PartialSegment(leg=ev.leg, text=ev.text))
                elif isinstance(ev, FinalTranscript):
                    await self._final(ev, rec)
        except Exception:
            log.exception("recognition consumer failed")
            self._store_update(recognition="failed", recognition_note="recognizer stopped during the call")

    async def _final(self, ev: FinalTranscript, rec: LegRecognition) -> None:
        seg = SegmentRecord(ev.leg, ev.start, ev.end, ev.text, ev.confidence,
                            [{"word": w.word, "start": w.start, "end": w.end, "conf": w.conf} for w in ev.words])
        try:  # committed before it is announced; during a database outage it is parked and sent live anyway
            await self.ctx.store.submit(self.ctx.store.calls.add_segment, self.id, seg)
        except Exception:
            log.exception("could not store a final segment; it is still sent live")
        latency = rec.final_latency()
        if latency is not None:
            self.ctx.metrics.final_latency.observe(latency)
        if ev.leg == CALLER and self.routing is not None:
            self.routing.caller_said(ev.text)
        published = time.perf_counter()
        self._publish(FinalSegment(leg=ev.leg, start=ev.start, end=ev.end, text=ev.text,
                                      confidence=ev.confidence, words=[Word(**w) for w in seg.words]))
        if self.hints is not None:
            self.hints.on_final(ev.text, ev.leg, self.language, published)

    # -- teardown ----------------------------------------------------------------
    async def _finish(self, reason: str) -> None:
        self.ended = True
        if self.state.can(CallState.ENDED):
            self.state.to(CallState.ENDED)
        if self.routing is not None:
            try:
                await self.routing.finish()
            except Exception:
                log.exception("routing clean-up failed")
            if not self.routing.reached_agent and reason == "caller_hangup":
                reason = "abandoned"
        if self.session is not None:
            self.session.flush()
            self.session.close()
            self.ctx.ports.release(self.session.port)
            st = self.session.stats
            self.ctx.metrics.dropped_frames.inc(self.session.jitter_lost + self.session.jitter_late)
            self.ctx.metrics.bad_packets.inc(st.bad_packets)
        self.asr.end()  # the last words before BYE are decoded, never dropped
        if self._asr_tasks:
            await asyncio.gather(*self._asr_tasks, return_exceptions=True)
        if self._side_task is not None:
            await asyncio.gather(self._side_task, return_exceptions=True)
        await self.verification.finish()
        if self.recorder is not None:
            self.recorder.close()
        if self.ctx.engine is not None:
            self.ctx.metrics.asr_rtf.set(self.ctx.engine.stats.rtf)
        self.ctx.metrics.asr_audio.inc(self.asr.speech_frames * 0.02)
        try:  # parked and replayed in order if the database is down
            store = self.ctx.store
            await store.submit(store.calls.update, self.id, state="ended", ended_at=utcnow(), end_reason=reason)
            await store.submit(store.timeline.record_voice_interaction, self.id)  # hand-off to the timeline
        except Exception:
            log.exception("could not store the end of the call or hand it to the timeline")
        self._publish(CallStateChanged(state="ended", reason=reason))
        self.ctx.bus.close(self.id)
        self.ctx.metrics.calls_ended.labels(reason).inc()
        self.ctx.metrics.active_calls.dec()
        self.ctx.active.pop(self.id, None)
        log.info("call ended: %s", reason)

    # -- used by the routing and agent leg ------------------------------------------
    def consume(self, rec: LegRecognition) -> None:
        """Consume a leg's recognition (the caller's, an agent's) into this call's transcript."""
        assert rec.stream is not None
        self._asr_tasks.append(asyncio.get_running_loop().create_task(self._consume(rec.stream, rec)))

    @property
    def info(self) -> CallerInfo:
        """Who called whom."""
        return self.call.info

    def end(self, reason: str) -> None:
        """Hang up the caller and end the call with ``reason`` (``agent_hangup``, ``shutdown``)."""
        ending = self._ending_future()
        if not ending.done():
            self.call.hangup()
            ending.set_result(reason)

    def heard_reason(self, said: str, reason: str) -> None:
        """The caller said ``said`` while queued; ``reason`` (all of it so far) is stored and shown."""
        self._store_update(reason=reason)
        self._publish(ReasonHeard(text=reason))
        if self.hints is not None:
            self.hints.on_reason(said, self.language)

    def relay_dtmf(self, digit: str, at: float) -> None:
        """A key pressed on the agent's phone (it reaches the caller through the bridge)."""
        self._record(Dtmf(digit=digit, at=at, leg="agent"))

    def publish(self, event: CallEventModel) -> None:
        """Publish an event of this call (live only)."""
        self._publish(event)

    def store_update(self, **values: Any) -> None:
        """Queue an update of this call's row."""
        self._store_update(**values)

    def record(self, event: CallEventModel) -> None:
        """Publish an event of this call and queue it on the call's timeline."""
        self._record(event)

    # -- helpers -------------------------------------------------------------------
    def _publish(self, event: CallEventModel) -> None:
        self.ctx.bus.publish(self.id, event)
        if isinstance(event, VerificationResult):
            self.profile.verified(event.fields())

    def _record(self, event: CallEventModel) -> None:
        self._publish(event)
        self._store_event(event)

    def _store_update(self, **values: Any) -> None:
        self.ctx.store.submit(self.ctx.store.calls.update, self.id, **values)

    def _store_event(self, event: CallEventModel) -> None:
        self.ctx.store.submit(self.ctx.store.calls.add_event, self.id, event.type, event.fields())
