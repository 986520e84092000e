"""The asyncio-side handle of one outbound call. Commands go to the sippy thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from voice.events import CallEvent

Command = Callable[..., None]  # (sip call id, command name, *args), run on the sippy thread


@dataclass(eq=False)
class OutboundCall:
    """An outbound call as seen from asyncio: events on :attr:`events`, commands never block."""

    sip_call_id: str
    target: tuple[str, int]
    _command: Command
    events: asyncio.Queue[CallEvent] = field(default_factory=asyncio.Queue)

    def hangup(self) -> None:
        """CANCEL before answer, BYE after."""
        self._command(self.sip_call_id, "hangup")

    def accept_update(self, sdp: str) -> None:
        """Answer the callee's re-INVITE."""
        self._command(self.sip_call_id, "accept_update", sdp)
