"""Logging set-up: text or one JSON object per line, with the call id when there is one."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record."""
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        call_id = getattr(record, "call_id", None)
        if call_id:
            data["call_id"] = call_id
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines; the call id is shown in brackets."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record."""
        call_id = getattr(record, "call_id", None)
        record.callinfo = f" [{call_id}]" if call_id else ""
        return super().format(record)


def setup_logging(level: str = "INFO", json_format: bool = False) -> None:
    """Configure the root logger once."""
    handler = logging.StreamHandler(sys.stderr)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s%(callinfo)s: %(message)s"))
    from core.logctx import CallIdFilter

    handler.addFilter(CallIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
