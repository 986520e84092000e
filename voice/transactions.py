"""sippy's transaction manager with Hotline's transport rules. Runs on the sippy thread only."""

from __future__ import annotations

import logging
import re
from typing import Any

from sippy.SipTransactionManager import SipTransactionManager

log = logging.getLogger("hotline.sip")

# A request line ("METHOD uri SIP/2.0") or a status line ("SIP/2.0 200 ..."), after optional CRLF keep-alives.
_START_LINE = re.compile(rb"^(?:\r?\n)*(?:[A-Z]{2,16} \S+ SIP/2\.0\r?\n|SIP/2\.0 [1-6]\d\d )")


class HotlineTransactionManager(SipTransactionManager):
    """sippy transaction manager that also speaks SIP over TCP and drops non-SIP datagrams early.

    Client transactions whose target transport is ``tcp`` go through ``global_config['_tcp_server']``.
    On TCP the request retransmission timer (Timer A) and the retransmission of non-2xx final INVITE
    responses (Timer G) are off (RFC 3261 §17.1.1.2, §17.2.1); 2xx retransmission stays (§13.3.1.4).
    """

    def newTransaction(
        self,
        msg: Any,
        resp_cb: Any = None,
        laddress: Any = None,
        userv: Any = None,
        cb_ifver: int = 1,
        compact: bool = False,
        t: Any = None,
    ) -> Any:
        """Start a client transaction; see ``SipTransactionManager.newTransaction``."""
        address, transport = msg.getTarget()
        if userv is None and str(transport) != "udp" and str(transport).lower() == "udp":
            # a Contact with ";transport=UDP" (SIP is case-insensitive here; sippy only knows "udp")
            userv = self.l4r.getServer(address) if laddress is None else self.l4r.getServer(laddress, is_local=True)
        if userv is None and str(transport).lower() == "tcp":
            userv = self.global_config.get("_tcp_server")
            if userv is None:
                raise RuntimeError(f"SIP/TCP target {msg.getTarget()[0]!r} but no '_tcp_server' in global_config")
        tr = super().newTransaction(msg, resp_cb, laddress, userv, cb_ifver, compact, t)
        if tr.userv.transport == "tcp" and tr.teA is not None:
            tr.teA.cancel()
            tr.teA = None
        return tr

    def sendResponse(
        self, resp: Any, t: Any = None, retrans: bool = False, ack_cb: Any = None, lossemul: int = 0
    ) -> None:
        """Send a response in a server transaction; see ``SipTransactionManager.sendResponse``."""
        if t is None:
            t = self.tserver[resp.getTId(wBRN=True)]
        on_tcp = t.userv is not None and t.userv.transport == "tcp"
        super().sendResponse(resp, t, retrans, ack_cb, lossemul)
        if on_tcp and resp.getSCode()[0] >= 300 and t.teA is not None:
            t.teA.cancel()
            t.teA = None

    dropped_junk = 0

    def handleIncoming(self, data_in: Any, ra: Any, server: Any, rtime: Any) -> None:
        """Drop what cannot be SIP before sippy parses it (sippy prints a traceback for each)."""
        head = data_in[:256] if isinstance(data_in, bytes) else str(data_in)[:256].encode("utf-8", "replace")
        if not _START_LINE.match(head):
            self.dropped_junk += 1
            log.debug("dropped a non-SIP message from %s", ra)
            return
        super().handleIncoming(data_in, ra, server, rtime)
