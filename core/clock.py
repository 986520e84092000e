"""Wall-clock time: timezone-aware UTC, the only kind Hotline stores or shows."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(UTC)
