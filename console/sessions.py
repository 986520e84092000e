"""Console sign-in for agents: server-side sessions behind an HttpOnly cookie, CSRF tokens, login throttling.

An agent signs in with the user name and password of their SIP phone. The browser then holds only a random
session token in an HttpOnly, SameSite=Strict cookie; the session table keeps its SHA-256, the agent and a
CSRF token. Requests authenticated by the cookie that change state must echo that CSRF token in the
``X-CSRF-Token`` header and, when the browser says where they come from (``Origin``), come from this site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from core.roles import Principal

COOKIE = "hotline_console"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Clock = Callable[[], float]


@dataclass(slots=True)
class ConsoleSession:
    """One signed-in console: whose it is, its CSRF token, and when it was made and last used (clock time)."""

    agent_id: str
    name: str
    username: str
    csrf: str
    created: float
    seen: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionTable:
    """Live console sessions by token digest. Thread-safe: sync endpoints look sessions up from worker threads."""

    def __init__(self, idle_s: float, max_s: float, clock: Clock = time.monotonic) -> None:
        self.idle_s = idle_s
        self.max_s = max_s
        self.clock = clock
        self._sessions: dict[str, ConsoleSession] = {}
        self._lock = threading.Lock()

    def create(self, agent_id: str, name: str, username: str) -> tuple[str, ConsoleSession]:
        """A new session; returns the token (for the cookie, never stored) and the session."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = ConsoleSession(agent_id, name, username, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._purge(now)
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None, touch: bool = True) -> ConsoleSession | None:
        """The live session of ``token`` (its idle time restarts unless ``touch`` is false), or None."""
        if not token:
            return None
        key = _digest(token)
        now = self.clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[key]
                return None
            if touch:
                session.seen = now
            return session

    def drop(self, token: str | None) -> bool:
        """End a session (logout); whether there was one."""
        if not token:
            return False
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def drop_agent(self, agent_id: str) -> int:
        """End every session of an agent; how many there were."""
        with self._lock:
            keys = [k for k, s in self._sessions.items() if s.agent_id == agent_id]
            for key in keys:
                del self._sessions[key]
            return len(keys)

    def expires_in(self, session: ConsoleSession) -> float:
        """Seconds until the session ends if it is not used meanwhile."""
        return max(0.0, min(session.seen + self.idle_s, session.created + self.max_s) - self.clock())

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expired(self, session: ConsoleSession, now: float) -> bool:
        return now - session.seen > self.idle_s or now - session.created > self.max_s

    def _purge(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]


class LoginLimiter:
    """Blocks an address after ``limit`` failed logins within ``window_s``, for ``block_s``. Thread-safe.

    A login reserves a slot (:meth:`begin`) before the password is checked and settles it (:meth:`finish`), so
    many parallel guesses cannot all slip in before the first failures are counted.
    """

    def __init__(self, limit: int, window_s: float, block_s: float, clock: Clock = time.monotonic,
                 max_tracked: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.block_s = block_s
        self.clock = clock
        self.max_tracked = max_tracked
        self._fails: dict[str, deque[float]] = {}
        self._pending: dict[str, int] = {}  # address -> logins being checked now
        self._blocked: dict[str, float] = {}  # address -> clock time the block ends
        self._lock = threading.Lock()

    def begin(self, address: str) -> float:
        """0 when the address may try now (a slot is reserved until :meth:`finish`); else seconds to wait."""
        now = self.clock()
        with self._lock:
            until = self._blocked.get(address)
            if until is not None and until > now:
                return until - now
            self._blocked.pop(address, None)
            if len(self._fails) >= self.max_tracked:
                self._forget_old(now)
            pending = self._pending.get(address, 0)
            if len(self._recent(address, now)) + pending >= self.limit:
                return self.window_s  # as many guesses as allowed are already being checked
            self._pending[address] = pending + 1
            return 0.0

    def release(self, address: str) -> None:
        """Give back a slot reserved by :meth:`begin` without counting an attempt (another check refused it)."""
        with self._lock:
            self._give_back(address)

    def _give_back(self, address: str) -> None:
        left = self._pending.get(address, 1) - 1
        if left > 0:
            self._pending[address] = left
        else:
            self._pending.pop(address, None)

    def unblock(self, address: str) -> None:
        """Forget the failures and any block of ``address`` (e.g. an account whose password an admin reset)."""
        with self._lock:
            self._fails.pop(address, None)
            self._blocked.pop(address, None)

    def finish(self, address: str, success: bool) -> bool:
        """Settle a login begun with :meth:`begin`. A success clears the count; a failure is counted, and
        True means it blocked the address."""
        now = self.clock()
        with self._lock:
            self._give_back(address)
            if success:
                self._fails.pop(address, None)
                return False
            fails = self._recent(address, now)
            fails.append(now)
            if len(fails) < self.limit:
                return False
            del self._fails[address]
            self._blocked[address] = now + self.block_s
            return True

    def _recent(self, address: str, now: float) -> deque[float]:
        fails = self._fails.setdefault(address, deque())
        while fails and now - fails[0] > self.window_s:
            fails.popleft()
        return fails

    def _forget_old(self, now: float) -> None:
        for address in [a for a, f in self._fails.items() if not f or now - f[-1] > self.window_s]:
            del self._fails[address]
        for address in [a for a, until in self._blocked.items() if until <= now]:
            del self._blocked[address]


def same_origin(conn: HTTPConnection) -> bool:
    """False only when the browser names an ``Origin`` other than the host it is talking to."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == conn.headers.get("host", "").lower()


def console_session(conn: HTTPConnection, *, touch: bool = True) -> ConsoleSession | None:
    """The session of the request's cookie, if it is live and its agent still exists."""
    sessions: SessionTable | None = getattr(conn.app.state, "console_sessions", None)
    if sessions is None:
        return None
    token = conn.cookies.get(COOKIE)
    session = sessions.get(token, touch)
    if session is None:
        return None
    if conn.app.state.ctx.board.find(session.agent_id) is None:  # the agent was deleted
        sessions.drop_agent(session.agent_id)
        return None
    return session


SESSION_KEY_ID = 0  # principals of console sessions carry this key id and the agent id as their name


def is_console_session(who: Principal) -> bool:
    """Whether ``who`` is an agent signed in to the console (not an API key)."""
    return who.key_id == SESSION_KEY_ID and who.role == "agent"


def session_principal(conn: HTTPConnection, *, state_changing: bool, websocket: bool = False) -> Principal | None:
    """The agent signed in by cookie as a principal (role ``agent``, name = agent id), or None.

    Raises 403 when a state-changing request lacks the session's CSRF token or comes from another site; a
    WebSocket handshake (which cannot carry the header) only has to come from this site.
    """
    session = console_session(conn)
    if session is None:
        return None
    if (state_changing or websocket) and not same_origin(conn):
        raise HTTPException(403, "cross-site request refused")
    if state_changing:
        sent = conn.headers.get(CSRF_HEADER)
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
    conn.state.console_session = session
    return Principal(SESSION_KEY_ID, "agent", session.agent_id, session.agent_id)
