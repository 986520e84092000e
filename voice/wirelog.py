"""A sippy-compatible SIP message logger writing to Python logging."""

from __future__ import annotations

import logging
from typing import Any

wire = logging.getLogger("hotline.sip.wire")


class WireLogger:
    """Stands in for ``sippy.SipLogger``: messages go to ``hotline.sip.wire`` at DEBUG."""

    level = 0

    def write(self, *args: Any, **kwargs: Any) -> None:
        """Log a SIP message (only formatted when DEBUG is on)."""
        if wire.isEnabledFor(logging.DEBUG):
            wire.debug("".join(str(a) for a in args))

    def shutdown(self) -> None:
        """Nothing to close."""
