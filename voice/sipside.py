"""Code that runs on the sippy thread only. Imported lazily from that thread."""

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
from sippy.SipAddress import SipAddress
from sippy.SipContact import SipContact
from sippy.SipHeader import SipHeader
from sippy.SipURL import SipURL
from sippy.UA import UA

from voice.call import CallerInfo
from voice.events import Acked, Reinvite, RemoteHangup
from voice.settings import SipSettings
from voice.transactions import HotlineTransactionManager
from voice.wirelog import WireLogger

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER"


def build_transaction_manager(settings: SipSettings, recv_request: Callable[..., Any]) -> dict[str, Any]:
    """Create the transaction manager (and listeners); returns sippy's global_config."""
    global_config: dict[str, Any] = {
        "_sip_address": settings.host,
        "_sip_port": settings.port,
        "_sip_logger": WireLogger(),
    }
    tm = HotlineTransactionManager(global_config, recv_request, log_interval_s=settings.rate_limit_log_interval_s)
    global_config["_sip_tm"] = tm
    if settings.tcp:
        from sippy.Network_server import Network_server_opts

        from voice.tcp import TcpSipServer

        opts = Network_server_opts((settings.host, settings.port), tm.handleIncoming)
        global_config["_tcp_server"] = TcpSipServer(
            opts, idle_timeout=settings.tcp_idle_timeout_s, max_connections=settings.tcp_max_connections,
            max_connections_per_ip=settings.tcp_max_connections_per_ip,
            max_header_bytes=settings.tcp_max_header_bytes, max_message_bytes=settings.tcp_max_message_bytes,
            log_interval_s=settings.rate_limit_log_interval_s)
    return global_config


def server_contact(user: str | None) -> SipContact:
    """Our Contact: ``<sip:USER@host:port>``, no display name (sippy's default is ``Anonymous <sip:host:port>``).

    Host, port and ``;transport=tcp`` are sippy placeholders, filled in with the listener each message leaves
    through, so one value serves UDP and TCP.
    """
    return SipContact(address=SipAddress(url=SipURL(username=user), hadbrace=True))


def forget_transaction(sip_t: Any) -> None:
    """Let sippy drop a server transaction we do not answer (it keeps an INVITE's for Timer E otherwise)."""
    timer = getattr(sip_t, "teE", None)
    if timer is not None:
        timer.cancel()
        sip_t.teE = None


def simple_response(req: Any, code: int, reason: str, headers: dict[str, str] | None = None) -> Any:
    """A stateless final response, in the tuple form sippy's request callback returns."""
    resp = req.genResponse(code, reason)
    for name, value in (headers or {}).items():
        resp.appendHeader(SipHeader(name=name.lower(), bodys=value))
    return (resp, None, None)


def options_response(req: Any) -> Any:
    """200 OK to OPTIONS, for health probes and load balancers."""
    return simple_response(req, 200, "OK", {"Allow": ALLOW, "Accept": "application/sdp"})


def _headers(headers: dict[str, str]) -> tuple[Any, ...] | None:
    if not headers:
        return None
    return tuple(SipHeader(name=k.lower(), bodys=v) for k, v in headers.items())


class UaOps:
    """The sippy side of one call: owns the UA and turns its events into ours."""

    def __init__(
        self,
        global_config: dict[str, Any],
        info: CallerInfo,
        deliver: Callable[[UaOps, str, Any], None],
        on_dead: Callable[[UaOps], None],
        contact_user: str = "hotline",
    ) -> None:
        self.info = info
        self.offer_sdp: str | None = None
        self.call: Any = None
        self.answered = False
        self.live = True  # False once the call is over for us, though sippy may keep the UA a while
        self._deliver = deliver
        self._on_dead = on_dead
        self.ua = UA(global_config, event_cb=self._event, dead_cbs=(self._dead,))
        self.ua.lContact = server_contact(contact_user)

    # commands (already on the sippy thread)
    def ring(self) -> None:
        """180 Ringing."""
        if not self.answered:
            self.ua.recvEvent(CCEventRing((180, "Ringing", None)))

    def answer(self, sdp: str) -> None:
        """200 OK, waiting for the ACK."""
        if self.answered or self.ua.state is None or self.ua.isConnected():
            return
        self.answered = True
        self.ua.recvEvent(CCEventPreConnect((200, "OK", MsgBody(sdp))))

    def accept_update(self, sdp: str) -> None:
        """200 OK to a re-INVITE."""
        self.ua.recvEvent(CCEventConnect((200, "OK", MsgBody(sdp))))

    def reject(self, code: int, reason: str, headers: dict[str, str]) -> None:
        """A final error response."""
        if not self.answered:
            self.live = False
        event = CCEventFail((code, reason))
        event.extra_headers = _headers(headers)
        self.ua.recvEvent(event)

    def hangup(self) -> None:
        """BYE after answer, 480 before."""
        self.live = False
        if self.answered:
            self.ua.recvEvent(CCEventDisconnect())
        else:
            self.ua.recvEvent(CCEventFail((480, "Temporarily Unavailable")))

    # sippy callbacks
    def _event(self, event: Any, ua: Any) -> None:
        if isinstance(event, CCEventTry):
            body = event.getData()[3]
            self.offer_sdp = str(body) if body is not None else None
            self._deliver(self, "new", None)
        elif isinstance(event, CCEventConnect):
            data = event.getData()
            if data and data[0] == "ACK":
                body = data[2]
                self._deliver(self, "event", Acked(str(body) if body is not None else None))
        elif isinstance(event, CCEventUpdate):
            body = event.getData()
            self._deliver(self, "event", Reinvite(str(body) if body is not None else None))
        elif isinstance(event, CCEventDisconnect | CCEventFail):
            self.live = False
            reason = "bye" if self.answered else "cancel"
            self._deliver(self, "event", RemoteHangup(reason))

    def _dead(self, ua: Any, rtime: Any = None, origin: Any = None, *args: Any) -> None:
        self.live = False
        if self.call is not None:
            self._deliver(self, "event", RemoteHangup("dead"))
        self._on_dead(self)
