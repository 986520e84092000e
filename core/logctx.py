"""The call id as logging context: every record logged inside a call's task carries it."""

from __future__ import annotations

import logging
from contextvars import ContextVar

current_call_id: ContextVar[str | None] = ContextVar("hotline_call_id", default=None)


class CallIdFilter(logging.Filter):
    """Adds ``record.call_id`` from the running call's context when the record has none."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate and keep the record."""
        if getattr(record, "call_id", None) is None:
            record.call_id = current_call_id.get()
        return True
