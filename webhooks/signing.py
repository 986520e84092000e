"""Signing webhook deliveries, and checking a signature on the receiving side.

Every delivery carries two headers::

    X-Hotline-Timestamp: 1767225600
    X-Hotline-Signature: sha256=<hex HMAC-SHA256 of b"1767225600." + raw body, keyed with the target's secret>

The timestamp is the sender's clock in whole Unix seconds (ASCII digits) at the moment of that attempt: each
retry is signed again with its own time, while the body stays the same bytes. The signed message is the
timestamp exactly as sent in the header, one ``.``, then the raw request body (not re-serialised JSON).

A receiver recomputes the HMAC over ``<X-Hotline-Timestamp>.<raw body>`` with the shared secret, compares it in
constant time with ``X-Hotline-Signature``, and refuses a timestamp more than a few minutes (default 300 s)
away from its own clock in either direction: a captured request replayed later fails that check, and the
timestamp cannot be changed without breaking the signature. Repeats inside the window are dropped by the
``Idempotency-Key`` header as before. :func:`signature_matches` does all of this; it needs only the standard
library, so integrators can copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Hotline-Signature"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_S = 300.0
_MAX_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658: anything longer is not a timestamp


def signed_message(body: bytes, timestamp: int | str) -> bytes:
    """What the HMAC covers: ``<timestamp>.`` followed by the raw body."""
    return str(timestamp).encode("ascii") + b"." + body


def sign(body: bytes, secret: str, timestamp: int | str) -> str:
    """The ``X-Hotline-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode("utf-8"), signed_message(body, timestamp), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def _timestamp_seconds(timestamp: str | int) -> int | None:
    """The header's Unix seconds, or None unless it is 1-12 plain ASCII digits."""
    if isinstance(timestamp, bool):
        return None
    if isinstance(timestamp, int):
        return timestamp if timestamp >= 0 else None
    text = timestamp.strip()
    if not (0 < len(text) <= _MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
        return None
    return int(text)


def signature_matches(body: bytes, secret: str, header: str | None, timestamp: str | int | None,
                      now: float | None = None, tolerance_s: float = DEFAULT_TOLERANCE_S) -> bool:
    """Whether a received delivery is authentic and fresh (for receivers and tests).

    ``header`` and ``timestamp`` are the received ``X-Hotline-Signature`` and ``X-Hotline-Timestamp`` values
    (None when absent: refused). The timestamp must be within ``tolerance_s`` of ``now`` (Unix seconds,
    default the local clock) in either direction, and the signature must be the HMAC of
    ``<timestamp>.<body>`` under ``secret``, compared in constant time.
    """
    if header is None or timestamp is None:
        return False
    seconds = _timestamp_seconds(timestamp)
    if seconds is None:
        return False
    current = time.time() if now is None else now
    if not abs(current - seconds) <= tolerance_s:  # also refuses NaN
        return False
    raw = timestamp.strip() if isinstance(timestamp, str) else str(timestamp)
    expected = sign(body, secret, raw).encode("ascii")
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))
