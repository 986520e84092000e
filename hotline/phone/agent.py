"""``hotline phone register``: a registered pjsua2 agent phone that takes one call at a time.

The phone registers with digest credentials, rings or answers incoming calls, and reports every
event as one JSON object per line (see `AgentPhone`). pjsua2 callbacks only store what happened;
the main thread polls ``libHandleEvents`` and acts, as in `hotline.phone.softphone`.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import pjsua2 as pj

from hotline.phone.agent_call import AgentCall, CallPlan
from hotline.phone.audio import PreparedAudio
from hotline.phone.softphone import EndpointSettings, PhoneEndpoint, SoftphoneError, open_endpoint, pj_message

_POLL_MS = 10
_HANGUP_WAIT_S = 3.0  # at shutdown: how long to wait for the final response to our BYE/CANCEL
_UNREGISTER_WAIT_S = 4.0  # at shutdown: how long to wait for the answer to the un-REGISTER
_RETRY_INTERVAL_S = 30  # pjsua's retry after a failed registration refresh
_ADDRESS_RE = re.compile(r"^(?:sip:)?(?P<user>[^@:;\s<>]+)@(?P<host>[A-Za-z0-9.\-]+)(?::(?P<port>\d{1,5}))?$")


class RegistrationError(Exception):
    """The registrar refused us or never answered; ``code`` is the SIP status (408 for no answer)."""

    def __init__(self, registrar: str, code: int, reason: str) -> None:
        super().__init__(f"registration with {registrar} failed: {code} {reason}".rstrip())
        self.registrar = registrar
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class AgentAddress:
    """``USER@HOST[:PORT]``: who we register as, and where the registrar is."""

    user: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AgentAddress:
        """Parse ``USER@HOST[:PORT]`` (an optional ``sip:`` prefix is accepted), or raise `SoftphoneError`."""
        match = _ADDRESS_RE.match(text.strip())
        port = int(match.group("port")) if match and match.group("port") else None
        if not match or (port is not None and not 0 < port < 65536):
            raise SoftphoneError(f"not an agent address: {text!r} (expected USER@HOST[:PORT])")
        return cls(user=match.group("user"), host=match.group("host"), port=port)

    @property
    def hostport(self) -> str:
        """``host`` or ``host:port``."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def aor(self) -> str:
        """Our address of record (the REGISTER's To and From)."""
        return f"sip:{self.user}@{self.hostport}"

    def registrar_uri(self, transport: str) -> str:
        """The registrar's request URI for ``transport`` (``udp`` or ``tcp``)."""
        return f"sip:{self.hostport}" + (";transport=tcp" if transport == "tcp" else "")


@dataclass(frozen=True)
class AgentOptions:
    """Everything ``hotline phone register`` can be told, besides the address."""

    password: str
    transport: str = "udp"
    codec: str = "pcmu"
    local_port: int = 0
    expires_s: int = 600
    register_timeout_s: float = 10.0
    auto_answer: bool = False
    answer_delay_s: float = 0.0
    play: PreparedAudio | None = None
    record_path: Path | None = None
    hangup_after_s: float | None = None
    transfer_to: str | None = None
    transfer_after_s: float | None = None
    max_calls: int | None = None

    def plan(self) -> CallPlan:
        """What to do on each call."""
        return CallPlan(
            auto_answer=self.auto_answer,
            answer_delay_s=self.answer_delay_s,
            play=self.play,
            hangup_after_s=self.hangup_after_s,
            transfer_to=self.transfer_to,
            transfer_after_s=self.transfer_after_s,
        )


def record_path_for(base: Path, number: int) -> Path:
    """The recording of call ``number``: ``OUT.wav`` for the first, then ``OUT-2.wav``, ``OUT-3.wav``..."""
    return base if number <= 1 else base.with_name(f"{base.stem}-{number}{base.suffix}")


class JsonEvents:
    """Writes each event as one JSON object on its own line and flushes at once."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def emit(self, event: str, **fields: Any) -> None:
        """Write ``{"event": event, **fields}``."""
        self._stream.write(json.dumps({"event": event, **fields}) + "\n")
        self._stream.flush()


@dataclass(frozen=True)
class _RegResult:
    """One ``onRegState`` report."""

    code: int
    reason: str
    expires: int

    @property
    def ok(self) -> bool:
        """True for a 2xx."""
        return 200 <= self.code < 300


class _AgentAccount(pj.Account):
    """A ``pj.Account`` whose callbacks only queue registration results and incoming calls."""

    def __init__(self) -> None:
        super().__init__()
        self.reg_results: list[_RegResult] = []
        self.incoming: list[AgentCall] = []

    def onRegState(self, prm: Any) -> None:
        """Queue the registration result."""
        self.reg_results.append(_RegResult(int(prm.code), str(prm.reason), int(prm.expiration)))

    def onIncomingCall(self, prm: Any) -> None:
        """Wrap the new call at once (pjsua2 needs a ``Call`` object now) and queue it."""
        self.incoming.append(AgentCall(self, prm.callId))

    def take_results(self) -> list[_RegResult]:
        """Return and clear the queued registration results."""
        results, self.reg_results = self.reg_results, []
        return results


class AgentPhone:
    """A registered phone on a started endpoint: `register`, `serve`, then `shutdown` and `release`."""

    def __init__(self, phone: PhoneEndpoint, address: AgentAddress, options: AgentOptions, events: JsonEvents):
        self.phone, self.address, self.options, self.events = phone, address, options, events
        self.plan = options.plan()
        self.registrar = address.registrar_uri(options.transport)
        self.account: _AgentAccount | None = _AgentAccount()
        self.active: AgentCall | None = None
        self.rejected: list[AgentCall] = []  # busy calls until pjsua reports them disconnected
        self.taken = 0
        self.ended = 0

    @property
    def contact(self) -> str:
        """Where calls reach us: ``sip:USER@HOST:PORT`` (plus ``;transport=tcp``)."""
        suffix = ";transport=tcp" if self.options.transport == "tcp" else ""
        return f"sip:{self.address.user}@{self.phone.local_name()}{suffix}"

    def _account_config(self) -> Any:
        """The account: our AOR, the registrar, digest credentials for any realm, and ``--expires``."""
        acfg = self.phone.account_config(self.address.user)
        acfg.idUri = self.address.aor
        reg = acfg.regConfig
        reg.registrarUri = self.registrar
        reg.timeoutSec = self.options.expires_s  # pjsua refreshes 5 s before the granted expiry (5 s at least)
        reg.retryIntervalSec = _RETRY_INTERVAL_S
        reg.dropCallsOnFail = False
        cred = pj.AuthCredInfo("digest", "*", self.address.user, 0, self.options.password)
        acfg.sipConfig.authCreds.append(cred)
        return acfg

    def register(self, stop: Callable[[], bool]) -> bool:
        """Send REGISTER and wait for the outcome: True once registered, False if ``stop()`` came first.

        Raises `RegistrationError` when the registrar refuses us or does not answer in time.
        """
        assert self.account is not None
        try:
            self.account.create(self._account_config())
        except pj.Error as exc:
            raise RegistrationError(self.registrar, 0, pj_message(exc)) from exc
        deadline = time.monotonic() + self.options.register_timeout_s
        while time.monotonic() < deadline:
            if stop():
                return False
            self.phone.ep.libHandleEvents(_POLL_MS)
            for result in self.account.take_results():
                if not result.ok:
                    raise RegistrationError(self.registrar, result.code, result.reason)
                if result.expires <= 0:
                    why = f"{result.reason}, but the registrar kept no binding for our Contact"
                    raise RegistrationError(self.registrar, result.code, why)
                self._emit_registered(result, refresh=False)
                return True
        timeout = self.options.register_timeout_s
        raise RegistrationError(self.registrar, 408, f"no answer from the registrar within {timeout:g} s")

    def _emit_registered(self, result: _RegResult, refresh: bool) -> None:
        self.events.emit(
            "registered",
            code=result.code,
            expires=result.expires,
            contact=self.contact,
            registrar=self.registrar,
            refresh=refresh,
        )

    def done(self) -> bool:
        """True once ``--max-calls`` calls have ended."""
        return self.options.max_calls is not None and self.ended >= self.options.max_calls

    def serve(self, stop: Callable[[], bool]) -> None:
        """Take calls until ``stop()`` is true or `done`."""
        assert self.account is not None
        while not stop() and not self.done():
            self.phone.ep.libHandleEvents(_POLL_MS)
            for result in self.account.take_results():
                if result.ok and result.expires > 0:
                    self._emit_registered(result, refresh=True)
                else:  # pjsua keeps the account and retries after ``retryIntervalSec``
                    self.events.emit("registration_failed", code=result.code, reason=result.reason)
            self._take_incoming()
            self._step(time.monotonic())

    def _take_incoming(self) -> None:
        """Ring for the first caller; answer 486 Busy Here to anyone else (or anyone over ``--max-calls``)."""
        assert self.account is not None
        while self.account.incoming:
            call = self.account.incoming.pop(0)
            full = self.options.max_calls is not None and self.taken >= self.options.max_calls
            if self.active is not None or full:
                call.reject(486)
                self.rejected.append(call)
                self.events.emit("busy", **call.identity())
                continue
            self.taken += 1
            record = None if self.options.record_path is None else record_path_for(self.options.record_path, self.taken)
            call.start(self.taken, self.plan, record)
            self.active = call
            self.events.emit("incoming", call=call.number, **call.identity())

    def _step(self, now: float) -> None:
        """Advance the active call and drop rejected calls that are over."""
        self.rejected = [call for call in self.rejected if call.disconnected_at is None]
        call = self.active
        if call is None:
            return
        for name, fields in call.step(now):
            self.events.emit(name, call=call.number, **fields)
        if call.finished:
            self.active = None
            self.ended += 1

    def shutdown(self) -> None:
        """Hang up the active call, then unregister; emits ``ended`` and ``unregistered``."""
        if self.active is not None:
            self.active.hang_up("shutdown", time.monotonic())
            deadline = time.monotonic() + _HANGUP_WAIT_S
            while self.active is not None and time.monotonic() < deadline:
                self.phone.ep.libHandleEvents(_POLL_MS)
                self._step(time.monotonic())
            if self.active is not None:
                for name, fields in self.active.finish_now():
                    self.events.emit(name, call=self.active.number, **fields)
                self.active = None
        self._unregister()

    def _unregister(self) -> None:
        """Send REGISTER with expiry 0 and report the registrar's answer."""
        if self.account is None:
            return
        self.account.take_results()
        try:
            self.account.setRegistration(False)
        except pj.Error as exc:
            self.events.emit("unregistered", code=0, reason=pj_message(exc))
            return
        deadline = time.monotonic() + _UNREGISTER_WAIT_S
        while time.monotonic() < deadline:
            self.phone.ep.libHandleEvents(_POLL_MS)
            for result in self.account.take_results():
                self.events.emit("unregistered", code=result.code, reason=result.reason)
                return
        self.events.emit("unregistered", code=408, reason=f"no answer within {_UNREGISTER_WAIT_S:g} s")

    def release(self) -> None:
        """Drop pjsua2 objects before ``libDestroy`` (a recorder's WAV is finished when it is dropped)."""
        if self.active is not None:
            self.active.release_media()
        self.active = None
        self.rejected = []
        if self.account is not None:
            self.account.incoming = []
            with contextlib.suppress(pj.Error):
                self.account.shutdown()
        self.account = None


@contextlib.contextmanager
def stop_signals() -> Iterator[Callable[[], bool]]:
    """While inside, SIGINT and SIGTERM only set a flag; yields a function that reads it."""
    stopped: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        stopped.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(stopped)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_agent(address: AgentAddress, options: AgentOptions, events: JsonEvents) -> None:
    """Register, take calls until SIGINT/SIGTERM or ``--max-calls``, then unregister.

    Raises `RegistrationError` when registration fails and `SoftphoneError` when the endpoint cannot start.
    """
    settings = replace(
        EndpointSettings.for_target(address.aor, options.codec),
        transport=options.transport,
        sip_port=options.local_port,
    )
    with stop_signals() as stop, open_endpoint(settings) as phone:
        agent = AgentPhone(phone, address, options, events)
        try:
            if agent.register(stop):
                agent.serve(stop)
                agent.shutdown()
        finally:
            agent.release()
