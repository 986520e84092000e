"""Judging digest answers to our challenges (RFC 2617 / RFC 7616 semantics, MD5, ``qop=auth`` only).

:class:`DigestAuth` issues challenges whose nonces are bound to the client's address and checks the
answers: no qop (RFC 2069 style) is refused, the ``uri`` must be the Request-URI, and each nonce's ``nc``
must go up, which :class:`NonceCounts` tracks until the nonce expires. Synchronous; the time is an argument.
"""

from __future__ import annotations

import enum
import secrets
import threading
from collections import OrderedDict

from voice import digest

MAX_TRACKED_NONCES = 65536
_DUMMY_HA1 = "0" * 32  # compared against when the user is unknown, so both cases cost the same


class Verdict(enum.Enum):
    """What :meth:`DigestAuth.check` made of an answer, and so what to send back."""

    OK = "ok"  # authenticated
    CHALLENGE = "challenge"  # not an answer to a live challenge of ours (nonce, client, realm, opaque): new 401
    NO_QOP = "no_qop"  # algorithm other than MD5 or qop other than auth (RFC 2069 answers): new 401
    BAD_URI = "bad_uri"  # the digest uri is not the Request-URI: 400 (RFC 2617 §3.2.2.5)
    WRONG = "wrong"  # wrong password or unknown user with a live nonce: 403, a failed login
    WRONG_STALE = "wrong_stale"  # the same with an expired nonce: new 401 (stale=true would confirm nothing)
    STALE = "stale"  # right password, expired nonce: 401 with stale=true
    REPLAY = "replay"  # right password, but nc is not above the last one accepted for this nonce: 401 stale=true


class NonceCounts:
    """The highest ``nc`` accepted per nonce, kept until the nonce expires. Not thread-safe.

    The table is bounded: past ``max_entries`` the entries first used longest ago are dropped and every
    nonce issued no later than a dropped one counts as expired from then on, so a dropped entry never
    lets a replay through.
    """

    def __init__(self, max_entries: int = MAX_TRACKED_NONCES) -> None:
        self.max_entries = max_entries
        self._seen: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # nonce -> (nc, issued, forget_at)
        self.floor = -1.0  # nonces issued at or before this are treated as expired

    def __len__(self) -> int:
        return len(self._seen)

    def expired(self, nonce: str, issued: float) -> bool:
        """Whether ``nonce`` must be treated as expired because its entry may have been dropped."""
        return nonce not in self._seen and issued <= self.floor

    def advance(self, nonce: str, nc: int, issued: float, forget_at: float) -> bool:
        """Record ``nc`` for ``nonce``; False (nothing recorded) when it is not above the last one."""
        last = self._seen.get(nonce)
        if last is not None and nc <= last[0]:
            return False
        if last is None and nc < 1:
            return False
        self._seen[nonce] = (nc, issued, forget_at)
        while len(self._seen) > self.max_entries:
            _, (_, dropped_issued, _) = self._seen.popitem(last=False)
            self.floor = max(self.floor, dropped_issued)
        return True

    def prune(self, now: float) -> None:
        """Forget nonces that have expired anyway."""
        for nonce in [n for n, (_, _, forget_at) in self._seen.items() if forget_at <= now]:
            del self._seen[nonce]


class DigestAuth:
    """Issues challenges and judges the answers (``qop=auth``, MD5). Thread-safe.

    ``secret`` signs the nonces (a fresh random one per process by default); ``ttl_s`` is a nonce's life.
    """

    def __init__(self, realm: str, ttl_s: float, secret: bytes | None = None,
                 max_nonces: int = MAX_TRACKED_NONCES) -> None:
        self.realm = realm
        self.ttl_s = ttl_s
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self.opaque = digest.make_opaque(self._secret)
        self._lock = threading.Lock()
        self._counts = NonceCounts(max_nonces)

    def challenge(self, client: str, now: float, stale: bool = False) -> str:
        """A WWW-Authenticate value with a fresh nonce for ``client``."""
        nonce = digest.make_nonce(self._secret, now, client=client)
        return digest.build_challenge(self.realm, nonce, opaque=self.opaque, stale=stale)

    def check(self, creds: digest.DigestCredentials, *, ha1: str | None, method: str, request_uri: str, client: str,
              now: float) -> Verdict:
        """Judge ``creds`` sent by ``client`` in a ``method`` request to ``request_uri``; ``ha1`` None: no such user.

        Only a correct answer to a live nonce advances its ``nc``: wrong guesses cannot burn a phone's counts.
        """
        if creds.realm != self.realm or (creds.opaque is not None and creds.opaque != self.opaque):
            return Verdict.CHALLENGE
        if (creds.algorithm or digest.ALGORITHM).upper() != digest.ALGORITHM:
            return Verdict.NO_QOP
        if creds.qop != digest.QOP or creds.nc is None:
            return Verdict.NO_QOP
        status = digest.check_nonce(self._secret, creds.nonce, now, self.ttl_s, client=client)
        if status is digest.NonceStatus.INVALID:
            return Verdict.CHALLENGE
        if not digest.same_uri(creds.uri, request_uri):
            return Verdict.BAD_URI
        if not (digest.verify_response(creds, ha1 or _DUMMY_HA1, method) and ha1 is not None):
            return Verdict.WRONG_STALE if status is digest.NonceStatus.STALE else Verdict.WRONG
        issued = digest.nonce_issued(creds.nonce)
        assert issued is not None  # check_nonce accepted its form
        with self._lock:
            if status is digest.NonceStatus.STALE or self._counts.expired(creds.nonce, issued):
                return Verdict.STALE
            if not self._counts.advance(creds.nonce, int(creds.nc, 16), issued,
                                        issued + self.ttl_s + digest.FUTURE_SLACK_S):
                return Verdict.REPLAY
        return Verdict.OK

    def prune(self, now: float) -> None:
        """Forget the counts of expired nonces (bounds memory; the registrar's sweep calls it)."""
        with self._lock:
            self._counts.prune(now)

    def tracked(self) -> int:
        """Nonces whose ``nc`` is being tracked (for tests and stats)."""
        with self._lock:
            return len(self._counts)
