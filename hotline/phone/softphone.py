"""A pjsua2 softphone: a reusable endpoint/account setup and `place_call` for one outgoing call."""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pjsua2 as pj

from hotline.phone.audio import PreparedAudio

#: ``--codec`` choice -> (pjsua2 codec id, media clock rate).
CODECS: dict[str, tuple[str, int]] = {
    "pcmu": ("PCMU/8000", 8000),
    "pcma": ("PCMA/8000", 8000),
    "g722": ("G722/16000", 16000),
}
_HOST_RE = re.compile(r"^sips?:(?:[^@;?]*@)?(\[[^\]]+\]|[^:;?>]+)", re.IGNORECASE)
_DTMF_DIGIT_S = 0.3  # RFC 4733 digit (200 ms) plus its end-packet retransmissions and a gap
_EOF_MARGIN_S = 0.5  # if the player's EOF callback never comes, assume EOF this long after the duration
_BYE_WAIT_S = 3.0  # how long to wait for DISCONNECTED after we hang up or cancel
_MEDIA_WAIT_S = 5.0  # answered but no active audio after this long: hang up


class SoftphoneError(Exception):
    """The softphone could not start or could not attempt the call (one-line, user-facing message)."""


def clock_rate_for(codec: str) -> int:
    """Return the media clock rate (Hz) used for ``codec`` (``pcmu``, ``pcma`` or ``g722``)."""
    return CODECS[codec][1]


def pj_message(exc: Any) -> str:
    """Return a short text for a ``pj.Error``."""
    return str(getattr(exc, "reason", "") or getattr(exc, "title", "") or exc)


@dataclass(frozen=True)
class EndpointSettings:
    """How to build the pjsua2 endpoint: codec, SIP transport and SIP/RTP bind address (IPv4 only)."""

    codec: str = "pcmu"
    bind_address: str | None = "127.0.0.1"  # None: every interface
    sip_port: int = 0  # 0: ephemeral
    transport: str = "udp"  # "udp" or "tcp": the endpoint's one SIP transport

    @classmethod
    def for_target(cls, uri: str, codec: str = "pcmu") -> EndpointSettings:
        """Bind to 127.0.0.1 for a loopback target, else to every interface.

        Raises `SoftphoneError` for a non-SIP URI or an IPv6 target (this pjsua2 build's media is IPv4 only).
        """
        match = _HOST_RE.match(uri.strip())
        if not match:
            raise SoftphoneError(f"not a SIP URI: {uri!r} (expected sip:user@host[:port])")
        host = match.group(1)
        try:
            addr = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return cls(codec=codec, bind_address="127.0.0.1" if host.lower() == "localhost" else None)
        if addr.version == 6:
            raise SoftphoneError(f"IPv6 targets are not supported (pjsua2 media here is IPv4 only): {uri}")
        return cls(codec=codec, bind_address="127.0.0.1" if addr.is_loopback else None)


@dataclass
class PhoneEndpoint:
    """A started pjsua2 ``Endpoint`` with its one UDP SIP transport."""

    ep: Any
    transport_id: int
    settings: EndpointSettings

    def account_config(self, user: str = "phone") -> Any:
        """Return a ``pj.AccountConfig`` for a local account with no registrar.

        A registering phone can take this and set ``regConfig.registrarUri`` and
        ``sipConfig.authCreds`` before ``Account.create``.
        """
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{user}@{self.settings.bind_address or '127.0.0.1'}"
        acfg.sipConfig.transportId = self.transport_id
        acfg.mediaConfig.transportConfig.port = 0  # 0: random RTP/RTCP port pair
        if self.settings.bind_address:
            acfg.mediaConfig.transportConfig.boundAddress = self.settings.bind_address
        acfg.natConfig.iceEnabled = False
        acfg.natConfig.sipOutboundUse = 0
        return acfg

    def local_name(self) -> str:
        """Return the SIP transport's published ``host:port`` (what goes into our Contact)."""
        return str(self.ep.transportGetInfo(self.transport_id).localName)


@contextlib.contextmanager
def _fd1_to(fd: int) -> Iterator[None]:
    """Point the process's fd 1 at ``fd`` so pjlib's native stdout logging cannot reach real stdout."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(fd, 1)
    try:
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def _endpoint_config() -> Any:
    """Build the ``pj.EpConfig`` for polling from the main thread with quiet logs."""
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.userAgent = "hotline-phone"
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    return cfg


def _apply_media(cfg: Any, codec: str) -> None:
    """Set clock rate and turn off VAD/echo cancel so the whole file goes out unresampled."""
    rate = clock_rate_for(codec)
    cfg.medConfig.clockRate = rate
    cfg.medConfig.sndClockRate = rate
    cfg.medConfig.channelCount = 1
    cfg.medConfig.ecTailLen = 0
    cfg.medConfig.noVad = True


def _restrict_codecs(ep: Any, codec: str) -> None:
    """Give ``codec`` priority 255 and every other audio codec 0 (disabled)."""
    wanted = CODECS[codec][0]
    for info in ep.codecEnum2():
        ep.codecSetPriority(info.codecId, 255 if info.codecId.startswith(wanted) else 0)


@contextlib.contextmanager
def open_endpoint(settings: EndpointSettings) -> Iterator[PhoneEndpoint]:
    """Create, start and finally destroy a pjsua2 endpoint (null audio device, one UDP or TCP transport).

    Every pjsua2 object made inside the block (accounts, calls, players) must be released
    before the block exits. pjlib's stdout logging is sent to stderr for the duration.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with _fd1_to(devnull):
            ep = pj.Endpoint()
            ep.libCreate()  # logs at pjlib's default level before libInit can lower it
    finally:
        os.close(devnull)
    with _fd1_to(2):
        try:
            cfg = _endpoint_config()
            _apply_media(cfg, settings.codec)
            ep.libInit(cfg)
            ep.audDevManager().setNullDev()
            tcfg = pj.TransportConfig()
            tcfg.port = settings.sip_port
            if settings.bind_address:
                tcfg.boundAddress = settings.bind_address
            kind = pj.PJSIP_TRANSPORT_TCP if settings.transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
            transport_id = ep.transportCreate(kind, tcfg)
            _restrict_codecs(ep, settings.codec)
            ep.libStart()
        except pj.Error as exc:
            ep.libDestroy()
            raise SoftphoneError(f"cannot start SIP endpoint: {pj_message(exc)}") from exc
        try:
            yield PhoneEndpoint(ep=ep, transport_id=transport_id, settings=settings)
        finally:
            ep.libDestroy()


@dataclass(frozen=True)
class CallOptions:
    """What to do on the call besides playing the file."""

    codec: str = "pcmu"
    dtmf: str = ""
    record_path: Path | None = None
    hangup_after_s: float | None = None
    tail_s: float = 1.0
    timeout_s: float = 30.0
    caller: str = "phone"  # user part of our From (a number, for caller-ID tests)


@dataclass
class CallOutcome:
    """The result of one call; `to_json` gives the CLI's JSON object."""

    status: int
    reason: str
    call_id: str
    setup_ms: float | None
    duration_s: float
    hangup_by: str | None
    codec: str | None
    played_s: float
    dtmf_sent: str
    warnings: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """True when the INVITE got a 2xx."""
        return 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-able fields (everything but ``warnings``)."""
        data = asdict(self)
        data.pop("warnings")
        return data


def _is_incoming_bye(event: Any) -> bool:
    """True when a call's DISCONNECTED event was caused by a BYE the remote sent us."""
    if event.type != pj.PJSIP_EVENT_TSX_STATE:
        return False
    tsx = event.body.tsxState.tsx
    return bool(tsx.role == pj.PJSIP_ROLE_UAS and tsx.method == "BYE")


class TrackedCall(pj.Call):
    """A ``pj.Call`` that notes state and media events for the polling loop (callbacks only store)."""

    def __init__(self, account: Any, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)  # an incoming call passes the id from ``onIncomingCall``
        self.answered_at: float | None = None
        self.disconnected_at: float | None = None
        self.status = 0
        self.reason = ""
        self.call_id = ""
        self.media_ready = False
        self.remote_bye = False
        self.end_reason = ""

    def onCallState(self, prm: Any) -> None:
        """Record answer time/status and disconnect time/status."""
        info = self.getInfo()
        now = time.monotonic()
        self.call_id = info.callIdString or self.call_id
        answered = (pj.PJSIP_INV_STATE_CONNECTING, pj.PJSIP_INV_STATE_CONFIRMED)
        if info.state in answered and self.answered_at is None:
            self.answered_at, self.status, self.reason = now, info.lastStatusCode, info.lastReason
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.disconnected_at = now
            self.remote_bye = _is_incoming_bye(prm.e)
            self.end_reason = f"{info.lastStatusCode} {info.lastReason}"
            if self.answered_at is None:
                self.status, self.reason = info.lastStatusCode, info.lastReason

    def onCallMediaState(self, prm: Any) -> None:
        """Note when the call's audio becomes active."""
        info = self.getInfo()  # keep it referenced: ``.media`` points into it
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media_ready = True


class FilePlayer(pj.AudioMediaPlayer):
    """A file player that flags end of file."""

    def __init__(self) -> None:
        super().__init__()
        self.eof = False

    def onEof2(self) -> None:
        """Flag end of file (may run on the media thread: only store)."""
        self.eof = True


class _CallSession:
    """Drives one outgoing call from the main thread by polling ``libHandleEvents``."""

    def __init__(self, phone: PhoneEndpoint, audio: PreparedAudio, options: CallOptions) -> None:
        self.phone, self.audio, self.options = phone, audio, options
        self.account: Any = pj.Account()
        self.account.create(phone.account_config(options.caller))
        self.call: TrackedCall | None = TrackedCall(self.account)
        self.player: FilePlayer | None = None
        self.recorder: Any = None
        self.codec: str | None = None
        self.dtmf_sent = ""
        self.warnings: list[str] = []
        self.media_started = False
        self.play_at: float | None = None
        self.play_started: float | None = None
        self.eof_at: float | None = None
        self.hangup_at: float | None = None
        self.timed_out = False

    def run(self, target: str) -> CallOutcome:
        """Place the call and poll until it is over; return the outcome."""
        assert self.call is not None
        sent_at = time.monotonic()
        try:
            self.call.makeCall(target, pj.CallOpParam(True))
        except pj.Error as exc:
            self.call.thisown = False  # deleting a Call whose makeCall failed aborts in pjsua
            self.call = None
            raise SoftphoneError(f"cannot call {target}: {pj_message(exc)}") from exc
        while self.call.disconnected_at is None:
            try:
                self.phone.ep.libHandleEvents(10)
                now = time.monotonic()
                if self.hangup_at is not None and now - self.hangup_at > _BYE_WAIT_S:
                    self.warnings.append("no final response to our BYE/CANCEL; giving up")
                    break
                self._step(now, sent_at)
            except KeyboardInterrupt:
                self._hangup(time.monotonic())
        return self._outcome(sent_at)

    def _step(self, now: float, sent_at: float) -> None:
        """Advance the call: time out, start media, play, and hang up when done."""
        call, opts = self.call, self.options
        assert call is not None
        if call.answered_at is None:
            if now - sent_at > opts.timeout_s and self.hangup_at is None:
                self.timed_out = True
                self._hangup(now)
            return
        if self.hangup_at is not None:
            return
        if not self.media_started:
            if call.media_ready:
                self._start_media(now)
            elif now - call.answered_at > _MEDIA_WAIT_S:
                self.warnings.append("call answered but audio never became active")
                self._hangup(now)
                return
        if self.play_at is not None and self.play_started is None and now >= self.play_at:
            self._start_player(now)
        if self.play_started is not None and self.eof_at is None:
            assert self.player is not None
            if self.player.eof or now >= self.play_started + self.audio.duration_s + _EOF_MARGIN_S:
                self.eof_at = now
        if opts.hangup_after_s is not None:
            if now >= call.answered_at + opts.hangup_after_s:
                self._hangup(now)
        elif self.eof_at is not None and now >= self.eof_at + opts.tail_s:
            self._hangup(now)

    def _start_media(self, now: float) -> None:
        """Start recording, send DTMF, and schedule the player after the digits."""
        assert self.call is not None
        self.media_started = True
        aud = self.call.getAudioMedia(-1)
        info = self.call.getInfo()  # keep it referenced: ``.media`` points into it
        for idx, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO:
                self.codec = self.call.getStreamInfo(idx).codecName
                break
        if self.options.record_path is not None:
            try:
                self.recorder = pj.AudioMediaRecorder()
                self.recorder.createRecorder(str(self.options.record_path))
                aud.startTransmit(self.recorder)
            except pj.Error as exc:
                self.recorder = None
                self.warnings.append(f"not recording: {pj_message(exc)}")
        delay = 0.0
        if self.options.dtmf:
            try:
                self.call.dialDtmf(self.options.dtmf)
                self.dtmf_sent = self.options.dtmf
                delay = _DTMF_DIGIT_S * len(self.options.dtmf)
            except pj.Error as exc:
                self.warnings.append(f"DTMF not sent: {pj_message(exc)}")
        self.play_at = now + delay

    def _start_player(self, now: float) -> None:
        """Create the file player and transmit it to the call."""
        assert self.call is not None
        self.player = FilePlayer()
        try:
            self.player.createPlayer(str(self.audio.path), pj.PJMEDIA_FILE_NO_LOOP)
            self.player.startTransmit(self.call.getAudioMedia(-1))
        except pj.Error as exc:
            self.warnings.append(f"cannot play the file: {pj_message(exc)}")
            self._hangup(now)
            return
        self.play_started = now

    def _hangup(self, now: float) -> None:
        """Send BYE (or CANCEL before answer) once."""
        if self.hangup_at is not None or self.call is None:
            return
        self.hangup_at = now
        with contextlib.suppress(pj.Error):
            self.call.hangup(pj.CallOpParam(True))

    def _outcome(self, sent_at: float) -> CallOutcome:
        """Summarise the finished call."""
        call = self.call
        assert call is not None
        end = call.disconnected_at or time.monotonic()
        status, reason = call.status, call.reason
        if call.answered_at is None and self.timed_out:
            status, reason = 408, f"no answer within {self.options.timeout_s:g} s (cancelled)"
        hangup_by: str | None = None
        if call.answered_at is not None:
            hangup_by = "remote" if call.remote_bye and self.hangup_at is None else "local"
            if hangup_by == "local" and self.hangup_at is None and call.disconnected_at is not None:
                self.warnings.append(f"the SIP stack ended the call ({call.end_reason})")
        played = 0.0
        if self.play_started is not None:
            stopped = self.eof_at or self.hangup_at or end
            played = min(self.audio.duration_s, stopped - self.play_started)
        return CallOutcome(
            status=status,
            reason=reason,
            call_id=call.call_id,
            setup_ms=None if call.answered_at is None else round((call.answered_at - sent_at) * 1000, 1),
            duration_s=0.0 if call.answered_at is None else round(end - call.answered_at, 3),
            hangup_by=hangup_by,
            codec=self.codec,
            played_s=round(max(played, 0.0), 3),
            dtmf_sent=self.dtmf_sent,
            warnings=self.warnings,
        )

    def release(self) -> None:
        """Drop pjsua2 objects in a safe order before ``libDestroy`` (recorder close writes the WAV)."""
        self.player = None
        self.recorder = None
        self.call = None
        if self.account is not None:
            with contextlib.suppress(pj.Error):
                self.account.shutdown()
        self.account = None


def place_call(target: str, audio: PreparedAudio, options: CallOptions) -> CallOutcome:
    """Call ``target``, play ``audio`` once answered, hang up, and report what happened.

    Raises `SoftphoneError` when the endpoint cannot start or the call cannot be attempted.
    """
    with open_endpoint(EndpointSettings.for_target(target, options.codec)) as phone:
        try:
            session = _CallSession(phone, audio, options)
        except pj.Error as exc:
            raise SoftphoneError(f"cannot create the local SIP account: {pj_message(exc)}") from exc
        try:
            return session.run(target)
        finally:
            session.release()
