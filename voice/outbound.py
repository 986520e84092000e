"""Outbound calls (Hotline as UAC, e.g. to an agent's phone). Runs on the sippy thread only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sippy.CCEvents import (
    CCEventConnect,
    CCEventDisconnect,
    CCEventFail,
    CCEventPreConnect,
    CCEventRing,
    CCEventTry,
    CCEventUpdate,
)
from sippy.MsgBody import MsgBody
from sippy.SipCallId import SipCallId
from sippy.UA import UA

from voice.events import Answered, Failed, ReferRequested, Reinvite, RemoteHangup, Ringing
from voice.sipside import server_contact

Deliver = Callable[[Any], None]


class OutboundOps:
    """The sippy side of one outbound call: owns the UA and turns its events into ours."""

    def __init__(self, global_config: dict[str, Any], call_id: str, target: tuple[str, int], transport: str,
                 deliver: Deliver, on_dead: Callable[[OutboundOps], None]) -> None:
        self._deliver = deliver
        self._on_dead = on_dead
        self.answered = False
        self.ended = False
        self.call_id = call_id
        self.ua = UA(global_config, event_cb=self._event, nh_address=target, nh_transport=transport,
                     dead_cbs=(self._dead,))
        self.ua.lContact = server_contact(None)  # no display name; sippy puts the caller's user part in

    def start(self, callee: str, caller: str, display: str | None, sdp: str) -> None:
        """Send the INVITE."""
        cid = SipCallId(self.call_id)
        self.ua.recvEvent(CCEventTry((cid, caller, callee, MsgBody(sdp), None, display)))

    def hangup(self) -> None:
        """CANCEL before answer, BYE after."""
        if not self.ended:
            self.ended = True
            self.ua.recvEvent(CCEventDisconnect())

    def accept_update(self, sdp: str) -> None:
        """200 OK to the callee's re-INVITE."""
        self.ua.recvEvent(CCEventConnect((200, "OK", MsgBody(sdp))))

    def _event(self, event: Any, ua: Any) -> None:
        if isinstance(event, CCEventRing):
            self._deliver(Ringing(int(event.getData()[0])))
        elif isinstance(event, CCEventConnect | CCEventPreConnect):
            data = event.getData()
            if not self.answered:
                self.answered = True
                body = data[2] if data and len(data) > 2 else None
                self._deliver(Answered(str(body) if body is not None else None))
        elif isinstance(event, CCEventUpdate):
            body = event.getData()
            self._deliver(Reinvite(str(body) if body is not None else None))
        elif isinstance(event, CCEventFail):
            self.ended = True
            data = event.getData() or (0, "failed")
            self._deliver(Failed(int(data[0]), str(data[1])))
        elif isinstance(event, CCEventDisconnect):
            also = event.getData()
            if also is not None:
                self._deliver(ReferRequested(str(also.getUrl())))  # sippy sends 202 and then BYE itself
                return
            self.ended = True
            self._deliver(RemoteHangup("bye") if self.answered else Failed(487, "Request Terminated"))

    def _dead(self, ua: Any, rtime: Any = None, origin: Any = None, *args: Any) -> None:
        if not self.ended:
            self.ended = True
            self._deliver(RemoteHangup("dead") if self.answered else Failed(0, "dialog ended"))
        self._on_dead(self)
