"""API keys: 256-bit random secrets, stored only as hashes."""

from __future__ import annotations

import hashlib


def hash_key(key: str) -> str:
    """SHA-256 of an API key (keys are 256-bit random, so a fast hash is appropriate)."""
    return hashlib.sha256(key.encode()).hexdigest()
