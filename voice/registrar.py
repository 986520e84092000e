"""The SIP registrar (RFC 3261 §10.3) with digest authentication, independent of sippy.

:class:`Registrar` takes a :class:`RegisterRequest` (plain values, built on the sippy thread by
``voice.register_sip``) and returns a :class:`Decision` (status, reason, headers). It is thread-safe:
the sippy thread handles requests and sweeps expired bindings while the asyncio side reads bindings
and updates :class:`Credentials`. Times come from one injected clock (``time.monotonic`` by default),
so ``Binding.expires_at`` is a reading of that clock, not a wall-clock time.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from voice import digest
from voice.digest_auth import DigestAuth, Verdict
from voice.settings import SipSettings

log = logging.getLogger("hotline.sip.auth")

ChangeCallback = Callable[[str, bool, "Binding | None"], None]
_HA1 = re.compile(r"[0-9a-f]{32}")


class CredentialError(ValueError):
    """A credential that cannot be stored."""

    def __init__(self, username: str, reason: str) -> None:
        super().__init__(f"credential for {username!r} rejected: {reason}")
        self.username = username
        self.reason = reason


class Credentials:
    """Thread-safe map of username to HA1 = MD5(username:realm:password) in lower-case hex."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ha1: dict[str, str] = {}

    def set(self, username: str, ha1: str) -> None:
        """Add or replace the HA1 of ``username``."""
        if not username:
            raise CredentialError(username, "empty username")
        value = ha1.lower()
        if not _HA1.fullmatch(value):
            raise CredentialError(username, "HA1 must be 32 hex digits")
        with self._lock:
            self._ha1[username] = value

    def set_password(self, username: str, realm: str, password: str) -> None:
        """Store the HA1 of a clear-text password (the password itself is not kept)."""
        self.set(username, digest.ha1(username, realm, password))

    def remove(self, username: str) -> bool:
        """Forget ``username``; True if it was known. Its current bindings stay until they expire."""
        with self._lock:
            return self._ha1.pop(username, None) is not None

    def get(self, username: str) -> str | None:
        """The HA1 of ``username``, or None."""
        with self._lock:
            return self._ha1.get(username)


class FailureLimiter:
    """Counts failed logins per source IP; ``limit`` failures within ``window_s`` block the IP for ``block_s``."""

    def __init__(self, limit: int, window_s: float, block_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self.block_s = block_s
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def blocked(self, ip: str, now: float) -> bool:
        """Whether ``ip`` is blocked at ``now``."""
        with self._lock:
            return self._blocked_until.get(ip, -math.inf) > now

    def record(self, ip: str, now: float) -> tuple[int, bool]:
        """Count a failure; returns the failures within the window and whether this one started a block."""
        with self._lock:
            times = self._failures.setdefault(ip, deque())
            times.append(now)
            while times and times[0] <= now - self.window_s:
                times.popleft()
            count = len(times)
            if count < self.limit:
                return count, False
            self._blocked_until[ip] = now + self.block_s
            del self._failures[ip]  # counting starts afresh once the block is over
            return count, True

    def prune(self, now: float) -> None:
        """Forget failures older than the window and blocks that are over (bounds memory)."""
        with self._lock:
            for ip in [ip for ip, until in self._blocked_until.items() if until <= now]:
                del self._blocked_until[ip]
            for ip in [ip for ip, times in self._failures.items() if times[-1] <= now - self.window_s]:
                del self._failures[ip]


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact of a user. ``expires_at`` and ``registered_at`` are registrar-clock readings."""

    username: str
    contact: str  # the Contact URI as the phone sent it
    host: str
    port: int
    transport: str  # the Contact's transport parameter, else the transport the REGISTER came over
    expires_at: float
    source: tuple[str, int]  # where the REGISTER came from
    user_agent: str = ""
    call_id: str = ""
    cseq: int = 0
    registered_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ContactSpec:
    """One Contact of a REGISTER, with its ``expires`` parameter when present."""

    uri: str
    host: str
    port: int
    transport: str | None = None
    expires: int | None = None


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    """What the registrar needs from a REGISTER. ``wildcard`` is ``Contact: *``."""

    aor_user: str  # user part of the To URI: whose bindings change
    call_id: str
    cseq: int
    source: tuple[str, int]
    request_uri: str  # as received: the digest ``uri`` must name it
    transport: str = "udp"
    contacts: tuple[ContactSpec, ...] = ()
    wildcard: bool = False
    expires: int | None = None  # the Expires header
    authorization: tuple[str, ...] = ()  # raw Authorization header values
    user_agent: str = ""
    method: str = "REGISTER"


@dataclass(frozen=True, slots=True)
class Decision:
    """The response to send: status, reason phrase, extra headers in order, and the user's bindings on 200."""

    code: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    bindings: tuple[Binding, ...] = ()


def _route(b: Binding | None) -> tuple[object, ...] | None:
    """The parts of a binding that matter to whoever places calls to it."""
    return None if b is None else (b.contact, b.host, b.port, b.transport, b.source, b.user_agent)


class Registrar:
    """Authenticates REGISTER requests and keeps the resulting bindings; see the module docstring."""

    def __init__(
        self,
        settings: SipSettings,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        secret: bytes | None = None,
        on_change: ChangeCallback | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self._clock = clock
        self.auth = DigestAuth(settings.realm, settings.nonce_ttl_s, secret)
        self._lock = threading.Lock()
        self._bindings: dict[str, dict[str, Binding]] = {}  # username -> contact URI -> binding
        self._reported: dict[str, Binding] = {}  # what listeners were last told, per bound user
        self._listeners: list[ChangeCallback] = [on_change] if on_change is not None else []
        self.limiter = FailureLimiter(settings.auth_fail_limit, settings.auth_fail_window_s, settings.auth_block_s)

    # -- reading -----------------------------------------------------------------------
    def add_listener(self, callback: ChangeCallback) -> None:
        """Also call ``callback(username, bound, binding)`` when a user's current binding changes.

        It runs on the thread that caused the change (``handle`` or ``expire``), outside the lock.
        ``binding`` is what :meth:`lookup` now returns; ``bound`` is ``binding is not None``. A refresh
        that only moves ``expires_at`` is not reported.
        """
        with self._lock:
            self._listeners.append(callback)

    def lookup(self, username: str) -> Binding | None:
        """The user's most recently registered unexpired binding."""
        with self._lock:
            return self._current(username, self._clock())

    def bindings(self, username: str) -> list[Binding]:
        """All unexpired bindings of ``username``, most recent first."""
        with self._lock:
            return self._live(username, self._clock())

    def challenge(self, client: str, stale: bool = False) -> str:
        """A fresh WWW-Authenticate value, its nonce good from the address ``client`` only."""
        return self.auth.challenge(client, self._clock(), stale)

    # -- changing ------------------------------------------------------------------------
    def expire(self, now: float | None = None) -> list[Binding]:
        """Drop bindings expired at ``now`` (default: the clock); returns them. Listeners hear of it."""
        now = self._clock() if now is None else now
        gone: list[Binding] = []
        with self._lock:
            for username in list(self._bindings):
                table = self._bindings[username]
                for key in [k for k, b in table.items() if b.expires_at <= now]:
                    gone.append(table.pop(key))
                if not table:
                    del self._bindings[username]
            events = [self._diff(u, now) for u in sorted({b.username for b in gone})]
            self.limiter.prune(now)
        self.auth.prune(now)
        self._notify(events)
        return gone

    def unregister(self, username: str) -> list[Binding]:
        """Drop every binding of ``username`` (say, an agent was removed); returns them. Listeners hear of it."""
        now = self._clock()
        with self._lock:
            gone = list(self._bindings.pop(username, {}).values())
            event = self._diff(username, now)
        self._notify([event])
        return gone

    def handle(self, req: RegisterRequest) -> Decision:
        """Authenticate ``req`` and apply it: 401, 403, 400, 423, or 200 with the user's bindings."""
        now = self._clock()
        ip = req.source[0]
        if self.limiter.blocked(ip, now):
            return Decision(403, "Forbidden")
        denied = self._authenticate(req, now)
        if denied is not None:
            return denied
        return self._apply(req, now)

    # -- authentication --------------------------------------------------------------------
    def _authenticate(self, req: RegisterRequest, now: float) -> Decision | None:
        """None when ``req`` carries valid credentials for its To user, else the response to send."""
        ip = req.source[0].strip("[]")  # nonces are bound to it: the same for UDP and (bracketed) TCP IPv6
        creds: digest.DigestCredentials | None = None
        for value in req.authorization:
            try:
                parsed = digest.parse_authorization(value)
            except digest.DigestParseError as exc:
                log.info("unreadable Authorization from %s: %s", ip, exc.reason)
                return Decision(400, "Bad Request")
            if parsed.realm == self.settings.realm:
                creds = parsed
                break
        if creds is None:
            return self._challenge_decision(ip, stale=False)
        verdict = self.auth.check(creds, ha1=self.credentials.get(creds.username), method=req.method,
                                  request_uri=req.request_uri, client=ip, now=now)
        if verdict is Verdict.OK:
            if creds.username != req.aor_user:
                log.warning("user %r from %s tried to register %r", creds.username, ip, req.aor_user)
                return Decision(403, "Forbidden")
            return None
        if verdict in (Verdict.WRONG, Verdict.WRONG_STALE):
            self._fail(req, creds.username, now)
            # a stale nonce with a wrong digest gets a plain new challenge: stale=true would confirm the password
            return self._challenge_decision(ip, stale=False) if verdict is Verdict.WRONG_STALE \
                else Decision(403, "Forbidden")
        if verdict is Verdict.BAD_URI:
            log.info("digest uri %r from %s is not the Request-URI %r", creds.uri, ip, req.request_uri)
            return Decision(400, "Bad Request: digest uri does not match the Request-URI")
        if verdict is Verdict.REPLAY:
            log.warning("digest replay from %s: user=%r nonce=%s nc=%s (not above the last one)", ip,
                        creds.username, creds.nonce[:24], creds.nc)
        elif verdict is Verdict.NO_QOP:
            log.info("digest answer from %s without qop=auth/MD5 (qop=%r, algorithm=%r): challenged again", ip,
                     creds.qop, creds.algorithm)
        return self._challenge_decision(ip, stale=verdict in (Verdict.STALE, Verdict.REPLAY))

    def _challenge_decision(self, client: str, stale: bool) -> Decision:
        return Decision(401, "Unauthorized", (("WWW-Authenticate", self.challenge(client, stale)),))

    def _fail(self, req: RegisterRequest, username: str, now: float) -> None:
        count, blocked = self.limiter.record(req.source[0], now)
        log.warning("REGISTER authentication failed: user=%r source=%s:%d (failure %d within %d s)",
                    username, req.source[0], req.source[1], count, self.settings.auth_fail_window_s)
        if blocked:
            log.warning("blocking REGISTER from %s for %d s after %d failed logins (last user=%r)",
                        req.source[0], self.settings.auth_block_s, count, username)

    # -- bindings ----------------------------------------------------------------------------
    def _apply(self, req: RegisterRequest, now: float) -> Decision:
        """Update the bindings of an authenticated request (RFC 3261 §10.3 steps 6-8)."""
        s = self.settings
        user = req.aor_user
        if req.wildcard and (req.contacts or req.expires != 0):
            return Decision(400, "Bad Request: Contact * needs Expires: 0 and no other Contact")
        wanted: list[tuple[ContactSpec, int]] = []
        for spec in req.contacts:
            asked = spec.expires if spec.expires is not None else req.expires
            expires = s.register_default_expires_s if asked is None else asked
            if expires < 0:
                return Decision(400, "Bad Request: negative expires")
            if 0 < expires < s.register_min_expires_s:
                return Decision(423, "Interval Too Brief", (("Min-Expires", str(s.register_min_expires_s)),))
            wanted.append((spec, min(expires, s.register_max_expires_s)))
        with self._lock:
            for spec, _ in wanted:
                old = self._bindings.get(user, {}).get(spec.uri)
                if old is not None and old.call_id == req.call_id and old.cseq >= req.cseq:
                    return Decision(400, "Bad Request: CSeq out of order")
            table = self._bindings.setdefault(user, {})
            if req.wildcard:
                table.clear()
            for spec, expires in wanted:
                if expires == 0:
                    table.pop(spec.uri, None)
                    continue
                table[spec.uri] = Binding(
                    username=user, contact=spec.uri, host=spec.host, port=spec.port,
                    transport=(spec.transport or req.transport).lower(), expires_at=now + expires,
                    source=req.source, user_agent=req.user_agent, call_id=req.call_id, cseq=req.cseq,
                    registered_at=now,
                )
            if not table:
                del self._bindings[user]
            current = tuple(self._live(user, now))
            event = self._diff(user, now)
        self._notify([event])
        return Decision(200, "OK", tuple(("Contact", self._contact_value(b, now)) for b in current), current)

    @staticmethod
    def _contact_value(b: Binding, now: float) -> str:
        return f"<{b.contact}>;expires={max(0, math.ceil(b.expires_at - now))}"

    def _live(self, username: str, now: float) -> list[Binding]:
        table = self._bindings.get(username, {})
        live = [b for b in table.values() if b.expires_at > now]
        return sorted(live, key=lambda b: b.registered_at, reverse=True)

    def _current(self, username: str, now: float) -> Binding | None:
        live = self._live(username, now)
        return live[0] if live else None

    def _diff(self, username: str, now: float) -> tuple[str, Binding | None] | None:
        """Record and return ``(username, current)`` when listeners have not heard of this state yet."""
        current = self._current(username, now)
        if _route(current) == _route(self._reported.get(username)):
            if current is not None:
                self._reported[username] = current
            return None
        if current is None:
            self._reported.pop(username, None)
        else:
            self._reported[username] = current
        return username, current

    def _notify(self, events: list[tuple[str, Binding | None] | None]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for event in events:
            if event is None:
                continue
            username, binding = event
            for callback in listeners:
                try:
                    callback(username, binding is not None, binding)
                except Exception:
                    log.exception("registration listener failed for %r", username)


__all__ = ["Binding", "ContactSpec", "CredentialError", "Credentials", "Decision", "FailureLimiter",
           "RegisterRequest", "Registrar"]
