"""The SIP stack: sippy in its own thread, inbound calls handed to asyncio.

sippy's event dispatcher (``ED2``) is a singleton bound to the thread that
first imports sippy, so every sippy import happens inside :meth:`SipStack._run`.
Events cross to asyncio with ``loop.call_soon_threadsafe``; commands cross back
with ``ED2.callFromThread``. Every ``UA`` is referenced in ``_uas`` until its
dialog is dead. New INVITEs and REGISTERs pass a per-source-IP rate limit first
(:mod:`voice.ratelimit`): over it they get 503 with Retry-After, and a source that
keeps sending regardless is dropped unanswered.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from voice.agentcall import OutboundCall
from voice.call import CallerInfo, NumberTrust, SipCall
from voice.events import Acked, CallEvent, Failed, Reinvite, RemoteHangup
from voice.numbers import normalize_number
from voice.ratelimit import Admission, SourceLimiter
from voice.registrar import Binding, Registrar
from voice.settings import SipSettings

log = logging.getLogger("hotline.sip")


class SipStartError(RuntimeError):
    """The SIP stack could not start (port in use, bad address)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"SIP stack on {host}:{port} failed to start: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


class SipStack:
    """Owns the sippy thread. ``on_call`` runs in the asyncio loop for every new INVITE."""

    def __init__(
        self,
        settings: SipSettings,
        loop: asyncio.AbstractEventLoop,
        on_call: Callable[[SipCall], None],
        registrar: Registrar | None = None,
        on_registration: Callable[[str, bool, Binding | None], None] | None = None,
    ) -> None:
        """``registrar`` answers REGISTER (501 without one); ``on_registration`` runs in the loop on its changes."""
        self.settings = settings
        self.loop = loop
        self.on_call = on_call
        self.registrar = registrar
        self._sweep: Any = None  # the sippy Timeout expiring registrations
        if registrar is not None and on_registration is not None:
            cb = on_registration

            def relay(user: str, bound: bool, b: Binding | None) -> None:
                self.loop.call_soon_threadsafe(cb, user, bound, b)

            registrar.add_listener(relay)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._ed: Any = None
        self._uas: dict[str, Any] = {}  # sip Call-ID -> UaOps, touched only on the sippy thread
        self._out: dict[str, Any] = {}  # sip Call-ID -> OutboundOps, touched only on the sippy thread
        s = settings
        self.limits = {  # used on the sippy thread only
            "INVITE": SourceLimiter("INVITE", s.invite_rate_per_s, s.invite_burst, max_sources=s.rate_limit_max_sources,
                                    log_interval_s=s.rate_limit_log_interval_s),
            "REGISTER": SourceLimiter("REGISTER", s.register_rate_per_s, s.register_burst,
                                      max_sources=s.rate_limit_max_sources, log_interval_s=s.rate_limit_log_interval_s),
        }
        self._flush: Any = None  # the sippy Timeout logging what the limits refused

    # -- lifecycle (asyncio thread) ------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        """Start the sippy thread and wait until it listens."""
        self._thread = threading.Thread(target=self._run, name="sippy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise SipStartError(self.settings.host, self.settings.port, "timed out")
        if self._error is not None:
            raise SipStartError(self.settings.host, self.settings.port, str(self._error)) from self._error

    def stop(self) -> None:
        """Stop the sippy loop."""
        if self._ed is not None and self._thread is not None and self._thread.is_alive():
            for timer in (self._sweep, self._flush):
                if timer is not None:
                    self._ed.callFromThread(timer.cancel)
            self._ed.callFromThread(self._ed.breakLoop)
            self._thread.join(5)

    def call_in_sip(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the sippy thread."""
        self._ed.callFromThread(fn, *args)

    def originate(self, target: tuple[str, int], transport: str, callee: str, caller: str,
                  display: str | None, sdp: str) -> OutboundCall:
        """Place an outbound call (INVITE with ``sdp``) to ``target``; events arrive on the returned handle."""
        call = OutboundCall(f"{uuid.uuid4().hex}@hotline", target, self._outbound_command)
        self.call_in_sip(self._originate, call, transport, callee, caller, display, sdp)
        return call

    def _originate(self, call: OutboundCall, transport: str, callee: str, caller: str, display: str | None,
                   sdp: str) -> None:
        from voice.outbound import OutboundOps

        def deliver(event: CallEvent) -> None:
            self.loop.call_soon_threadsafe(call.events.put_nowait, event)

        try:
            ops = OutboundOps(self.global_config, call.sip_call_id, call.target, transport, deliver,
                              lambda o: self._out.pop(o.call_id, None))
            self._out[call.sip_call_id] = ops
            ops.start(callee, caller, display, sdp)
        except Exception as exc:
            log.exception("outbound call to %s failed to start", call.target)
            self._out.pop(call.sip_call_id, None)
            deliver(Failed(0, f"could not send INVITE: {exc}"))

    def _outbound_command(self, sip_call_id: str, name: str, *args: Any) -> None:
        def run() -> None:
            ops = self._out.get(sip_call_id)
            if ops is not None:
                getattr(ops, name)(*args)

        self.call_in_sip(run)

    # -- sippy thread ---------------------------------------------------------
    def _run(self) -> None:
        try:
            from sippy.Core.EventDispatcher import ED2
            from sippy.SipConf import SipConf
            from sippy.Udp_server import Udp_server_opts

            from voice.sipside import build_transaction_manager

            ED2.my_ident = threading.get_ident()  # timers must belong to this thread
            Udp_server_opts.nworkers = 1  # more workers reorder responses (100 after 200)
            SipConf.my_uaname = self.settings.user_agent
            self._ed = ED2
            self.global_config = build_transaction_manager(self.settings, self._recv_request)
            from sippy.Time.Timeout import Timeout

            if self.registrar is not None:
                self._sweep = Timeout(self.registrar.expire, 1.0, -1)  # every second, forever
            self._flush = Timeout(self._flush_limits, self.settings.rate_limit_log_interval_s, -1)
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            ED2.loop()
        except Exception:
            log.exception("sippy loop crashed")

    def _flush_limits(self) -> None:
        now = time.monotonic()
        for limiter in self.limits.values():
            limiter.flush(now)

    def _admit(self, method: str, req: Any, sip_t: Any) -> tuple[bool, Any]:
        """``(True, None)`` to go on; else ``(False, what the request callback returns)``: a 503, or nothing."""
        from voice.sipside import forget_transaction, simple_response

        limiter = self.limits.get(method)
        if limiter is None:
            return True, None
        source, _ = getattr(req, "source", (("", 0), "udp"))
        ip = str(source[0]).strip("[]")  # SIP/TCP spells IPv6 hosts in brackets, UDP does not
        if not self.settings.rate_limit_trusted and self.settings.trusts(ip):
            return True, None
        decision = limiter.check(ip, time.monotonic())
        if decision.admission is Admission.ALLOW:
            return True, None
        if decision.admission is Admission.REFUSE:
            return False, simple_response(req, 503, "Service Unavailable",
                                          {"Retry-After": str(decision.retry_after_s)})
        forget_transaction(sip_t)
        return False, None

    def _recv_request(self, req: Any, sip_t: Any) -> Any:
        from voice.sipside import ALLOW, UaOps, options_response, simple_response

        method = req.getMethod()
        if req.getHFBody("to").getTag() is not None or method in ("BYE", "CANCEL", "ACK", "INFO", "UPDATE"):
            # in-dialog requests of live dialogs never get here (sippy routes them to their UA)
            return simple_response(req, 481, "Call/Transaction Does Not Exist")
        go_on, refusal = self._admit(method, req, sip_t)
        if not go_on:
            return refusal
        if method == "OPTIONS":
            return options_response(req)
        if method == "REGISTER" and self.registrar is not None:
            from voice.register_sip import register_response

            return register_response(req, self.registrar)
        if method != "INVITE":
            return simple_response(req, 501, "Not Implemented", {"Allow": ALLOW})
        if req.countHFs("contact") == 0:
            return simple_response(req, 400, "Missing Contact")
        if self.live_calls >= self.settings.max_calls:
            return simple_response(req, 503, "Service Unavailable", {"Retry-After": str(self.settings.retry_after_s)})
        try:
            info = self._caller_info(req)
            ops = UaOps(self.global_config, info, self._deliver, self._on_dead, self.settings.contact_user)
            self._uas[info.sip_call_id] = ops
            return ops.ua.recvRequest(req, sip_t)
        except Exception:
            log.exception("INVITE could not be handled")
            self._uas.pop(str(req.getHFBody("call-id")), None)
            return simple_response(req, 400, "Bad Request")

    @property
    def live_calls(self) -> int:
        """Dialogs not yet ended (ended ones linger in sippy for its 32 s clean-up)."""
        return sum(1 for ops in self._uas.values() if ops.live)

    def _caller_info(self, req: Any) -> CallerInfo:
        """Who calls: P-Asserted-Identity counts only from a trusted peer; anyone else's From is unverified."""
        source, transport = getattr(req, "source", (("", 0), "udp"))
        trusted = self.settings.trusts(str(source[0]))
        pai_user: str | None = None
        if trusted and req.countHFs("p-asserted-identity") > 0:
            try:
                pai_user = req.getHFBody("p-asserted-identity").getUrl().username
            except Exception:
                pai_user = None
        frm = req.getHFBody("from")
        from_user = frm.getUrl().username
        display = frm.getUri().name
        user = pai_user or from_user
        called = req.getRURI().username
        number = normalize_number(user, self.settings.default_region)
        trust: NumberTrust = "unverified" if not trusted or number is None else ("asserted" if pai_user else "peer")
        return CallerInfo(
            sip_call_id=str(req.getHFBody("call-id")),
            caller_user=user,
            caller_number=number,
            caller_display=display or None,
            called=normalize_number(called, self.settings.default_region) or called,
            source=(str(source[0]), int(source[1])),
            transport=str(transport),
            number_trust=trust,
        )

    def _deliver(self, ops: Any, kind: str, payload: CallEvent | None) -> None:
        """From the sippy thread: a new call or an event of a known call."""
        if kind == "new":
            call = SipCall(ops.info, ops.offer_sdp, self.call_in_sip, ops)
            ops.call = call
            self.loop.call_soon_threadsafe(self.on_call, call)
        elif ops.call is not None and payload is not None:
            self.loop.call_soon_threadsafe(ops.call.events.put_nowait, payload)

    def _on_dead(self, ops: Any) -> None:
        self._uas.pop(ops.info.sip_call_id, None)


__all__ = ["Acked", "Reinvite", "RemoteHangup", "SipStack", "SipStartError"]
