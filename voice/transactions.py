"""sippy's transaction manager with Hotline's transport rules. Runs on the sippy thread only."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from sippy.SipTransactionManager import SipTransactionManager

from voice.ratelimit import LogThrottle

log = logging.getLogger("hotline.sip")

# A request line ("METHOD uri SIP/2.0") or a status line ("SIP/2.0 200 ..."), after optional CRLF keep-alives.
_START_LINE = re.compile(rb"^(?:\r?\n)*(?:[A-Z]{2,16} \S+ SIP/2\.0\r?\n|SIP/2\.0 [1-6]\d\d )")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# header name -> its long and compact spellings; sippy cannot even answer a message without one of these
_MANDATORY = {"Via": (b"via", b"v"), "Call-ID": (b"call-id", b"i"), "CSeq": (b"cseq",), "From": (b"from", b"f"),
              "To": (b"to", b"t")}
_CSEQ = re.compile(rb"^[ \t]*\d{1,10}[ \t]+[A-Za-z]{2,16}[ \t]*$")


def sip_defect(data: bytes) -> str | None:
    """Why ``data`` cannot be a SIP message sippy could handle, or None. Cheap: no full parse.

    Checks the start line, UTF-8, that Via, Call-ID, CSeq (a number and a method), From and To are there,
    and that a Content-Length is a number no larger than the body (RFC 3261 §18.3: discard otherwise).
    """
    if not _START_LINE.match(data[:256]):
        return "not a SIP start line"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 at byte {exc.start}"
    data = data.lstrip(b"\r\n")
    end = _HEADER_END.search(data)
    head = data if end is None else data[: end.start()]
    seen: dict[bytes, bytes] = {}
    for line in head.splitlines()[1:]:
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation
        name, colon, value = line.partition(b":")
        if colon:
            seen.setdefault(name.strip().lower(), value)
    for header, names in _MANDATORY.items():
        found = [seen[n] for n in names if n in seen]
        if not found:
            return f"no {header} header"
        if header == "CSeq" and not _CSEQ.match(found[0]):
            return f"malformed CSeq {found[0][:40]!r}"
    lengths = {v.strip() for n in (b"content-length", b"l") if (v := seen.get(n)) is not None}
    body = 0 if end is None else len(data) - end.end()
    for raw in lengths:
        if not raw.isdigit() or int(raw) > body:
            return f"Content-Length {raw[:20]!r} with a body of {body} bytes"
    return None


class HotlineTransactionManager(SipTransactionManager):
    """sippy transaction manager that also speaks SIP over TCP and drops non-SIP datagrams early.

    Client transactions whose target transport is ``tcp`` go through ``global_config['_tcp_server']``.
    On TCP the request retransmission timer (Timer A) and the retransmission of non-2xx final INVITE
    responses (Timer G) are off (RFC 3261 §17.1.1.2, §17.2.1); 2xx retransmission stays (§13.3.1.4).
    Malformed messages are dropped before sippy parses them (:func:`sip_defect`), counted in
    ``dropped_junk`` and logged at most once per ``log_interval_s``.
    """

    def __init__(self, global_config: dict[str, Any], req_cb: Any = None, *, log_interval_s: float = 10.0) -> None:
        """See ``SipTransactionManager.__init__``."""
        super().__init__(global_config, req_cb)
        self.dropped_junk = 0
        self.junk_log = LogThrottle(log_interval_s)

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

    def handleIncoming(self, data_in: Any, ra: Any, server: Any, rtime: Any) -> None:
        """Drop what cannot be SIP before sippy parses it (sippy prints a traceback for each).

        One log line per ``junk_log`` interval counts the drops, so junk cannot flood the log either.
        """
        data = data_in if isinstance(data_in, bytes) else str(data_in).encode("utf-8", "surrogateescape")
        defect = sip_defect(data)
        if defect is not None:
            self.dropped_junk += 1
            now = time.monotonic()
            if self.junk_log.note(defect, now):
                log.warning("dropped %d malformed SIP message(s) since the last report; the latest from %s: %s",
                            sum(self.junk_log.counts.values()), getattr(ra, "address", ra), defect)
                self.junk_log.reset(now)
            return
        super().handleIncoming(data_in, ra, server, rtime)
