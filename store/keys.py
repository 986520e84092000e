"""API keys: 256-bit random secrets, stored only as hashes (:class:`KeyRepository`)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.roles import ROLES, Principal, UnknownRoleError
from store.schema import ApiKey


def hash_key(key: str) -> str:
    """SHA-256 of an API key (keys are 256-bit random, so a fast hash is appropriate)."""
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRepository:
    """Create and check API keys."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, role: str, name: str | None = None) -> str:
        """Create a key; the plaintext is returned once and never stored."""
        if role not in ROLES:
            raise UnknownRoleError(role)
        prefix = secrets.token_hex(4)
        key = f"hk_{prefix}_{secrets.token_urlsafe(32)}"
        with self.sessions.begin() as s:
            s.add(ApiKey(prefix=prefix, key_hash=hash_key(key), role=role, name=name, created_at=utcnow(),
                         revoked=False))
        return key

    def authenticate(self, key: str) -> Principal | None:
        """The principal for a presented key, or None."""
        with self.sessions() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked.is_(False))).first()
            return Principal(row.id, row.role, row.name) if row is not None else None
