"""API keys: 256-bit random secrets, stored only as hashes (:class:`KeyRepository`).

A key reads ``hk_<prefix>_<secret>``. The 8 hex digits of the prefix are stored in clear, so a key can be named
(``hotline keys list``, ``hotline keys revoke``) without its secret; the secret is kept only inside the SHA-256 of
the whole key. A key works until it is revoked or its ``expires_at`` has passed: :meth:`KeyRepository.authenticate`
checks both on every call, so a running server (which authenticates every request) refuses such a key at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.roles import ROLES, Principal, UnknownRoleError
from store.schema import ApiKey

KEY_STATUSES = ("active", "expired", "revoked")


def hash_key(key: str) -> str:
    """SHA-256 of an API key (keys are 256-bit random, so a fast hash is appropriate)."""
    return hashlib.sha256(key.encode()).hexdigest()


class UnknownKeyError(LookupError):
    """No key has this id, prefix or value."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no API key with id or prefix {ref!r}")
        self.ref = ref


class AmbiguousKeyError(LookupError):
    """More than one key answers to this reference (a prefix shared by two keys, or an id that is also a prefix)."""

    def __init__(self, ref: str, ids: list[int]) -> None:
        super().__init__(f"{ref!r} matches more than one API key (ids {', '.join(map(str, ids))}); give the id")
        self.ref = ref
        self.ids = ids


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as the CLI shows it: never the secret, nor its hash."""

    id: int
    prefix: str  # the 8 hex digits; the key itself starts with hk_<prefix>_
    role: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked: bool
    agent_id: str | None = None  # the agent an agent key acts for

    @property
    def label(self) -> str:
        """``hk_<prefix>_``: how the key starts, enough to recognise it."""
        return f"hk_{self.prefix}_"

    def status(self, now: datetime) -> str:
        """``revoked``, ``expired`` (``expires_at`` at or before ``now``) or ``active``."""
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_json(self, now: datetime) -> dict[str, Any]:
        """JSON-ready dict, with the status as of ``now``."""
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t is not None else None

        return {"id": self.id, "prefix": self.label, "role": self.role, "name": self.name,
                "created_at": iso(self.created_at), "expires_at": iso(self.expires_at),
                "revoked_at": iso(self.revoked_at), "status": self.status(now), "agent_id": self.agent_id}


def _record(row: ApiKey) -> KeyRecord:
    return KeyRecord(row.id, row.prefix, row.role, row.name, _utc(row.created_at), _utc(row.expires_at),
                     _utc(row.revoked_at), bool(row.revoked) or row.revoked_at is not None, row.agent_id)


@overload
def _utc(t: datetime) -> datetime: ...


@overload
def _utc(t: None) -> None: ...


@overload
def _utc(t: datetime | None) -> datetime | None: ...


def _utc(t: datetime | None) -> datetime | None:
    """Aware UTC; a naive value is taken to be UTC (as :class:`store.schema.UTCDateTime` does)."""
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _usable(now: datetime) -> Any:
    """The SQL condition of a key that works at ``now``: not revoked, not expired."""
    return (ApiKey.revoked.is_(False) & ApiKey.revoked_at.is_(None)
            & or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now))


class KeyRepository:
    """Create, check, list and revoke API keys. ``clock`` is the time expiry is judged by (tests replace it)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    def issue(self, role: str, name: str | None = None, expires_at: datetime | None = None,
              valid_for: timedelta | None = None, agent_id: str | None = None) -> tuple[str, KeyRecord]:
        """Create a key that stops working at ``expires_at``, or ``valid_for`` after its creation (never when
        neither is given); returns the plaintext, shown once and never stored, and the key's record.

        ``agent_id`` binds an ``agent`` key to the agent it acts for (it then reads and acts on that agent's
        calls only); an agent key bound to nobody owns no call.
        """
        if role not in ROLES:
            raise UnknownRoleError(role)
        if agent_id is not None and role != "agent":
            raise ValueError(f"only agent keys are bound to an agent, not {role} keys")
        if expires_at is not None and valid_for is not None:
            raise ValueError("give expires_at or valid_for, not both")
        now = self.clock()
        if valid_for is not None:
            expires_at = now + valid_for
        prefix = secrets.token_hex(4)
        key = f"hk_{prefix}_{secrets.token_urlsafe(32)}"
        with self.sessions.begin() as s:
            row = ApiKey(prefix=prefix, key_hash=hash_key(key), role=role, name=name, created_at=now,
                         expires_at=_utc(expires_at), revoked=False, agent_id=agent_id)
            s.add(row)
            s.flush()
            record = _record(row)
        return key, record

    def create(self, role: str, name: str | None = None, expires_at: datetime | None = None,
               valid_for: timedelta | None = None, agent_id: str | None = None) -> str:
        """Create a key (see :meth:`issue`); the plaintext is returned once and never stored."""
        return self.issue(role, name, expires_at, valid_for, agent_id)[0]

    def authenticate(self, key: str) -> Principal | None:
        """The principal for a presented key, or None (unknown, revoked or expired)."""
        with self.sessions() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key), _usable(self.clock()))).first()
            return Principal(row.id, row.role, row.name, row.agent_id) if row is not None else None

    def all(self, include_inactive: bool = False) -> list[KeyRecord]:
        """Keys by id; only the working ones unless ``include_inactive`` (then also revoked and expired ones)."""
        q = select(ApiKey).order_by(ApiKey.id)
        if not include_inactive:
            q = q.where(_usable(self.clock()))
        with self.sessions() as s:
            return [_record(row) for row in s.scalars(q)]

    def find(self, ref: str) -> KeyRecord:
        """The key that ``ref`` names: its id, its prefix (``ab12cd34``, ``hk_ab12cd34`` or ``hk_ab12cd34_``) or
        the whole key. Raises :class:`UnknownKeyError` or :class:`AmbiguousKeyError`."""
        with self.sessions() as s:
            return _record(self._one(s, ref))

    def revoke(self, ref: str) -> tuple[KeyRecord, bool]:
        """Revoke the key that ``ref`` names (see :meth:`find`); returns its record and whether this call revoked
        it (False: it already was, and nothing changed)."""
        with self.sessions.begin() as s:
            key_id = self._one(s, ref).id
            result = s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked.is_(False))
                               .values(revoked=True, revoked_at=self.clock()))
            newly = getattr(result, "rowcount", 0) == 1
            row = s.get(ApiKey, key_id, populate_existing=True)
            assert row is not None
            return _record(row), newly

    @staticmethod
    def _one(s: Session, ref: str) -> ApiKey:
        text = ref.strip()
        rows: dict[int, ApiKey] = {}
        if text.startswith("hk_"):
            prefix, _, secret = text[3:].partition("_")
            q = (select(ApiKey).where(ApiKey.key_hash == hash_key(text)) if secret
                 else select(ApiKey).where(ApiKey.prefix == prefix.lower()))
            rows.update((row.id, row) for row in s.scalars(q))
        elif text:
            if text.isdigit() and len(text) <= 18:  # a bigger number is no id (and overflows SQLite's integers)
                by_id = s.get(ApiKey, int(text))
                if by_id is not None:
                    rows[by_id.id] = by_id
            rows.update((row.id, row) for row in s.scalars(select(ApiKey).where(ApiKey.prefix == text.lower())))
        if not rows:
            raise UnknownKeyError(ref)
        if len(rows) > 1:
            raise AmbiguousKeyError(ref, sorted(rows))
        return next(iter(rows.values()))
