"""A minimal sippy stack with SIP over UDP and TCP, run as a subprocess by the TCP tests.

``python -m tests.voice.sip_stack --port P [--idle-timeout S] [--max-connections N] [--max-per-ip N]
[--max-header B] [--max-message B]`` (from the repository root) listens
on 127.0.0.1:P, UDP and TCP, and prints ``READY <port>``. OPTIONS gets 200; INVITE is answered
180 + 200 with a static SDP, and if the Request-URI user is ``hangup`` the stack sends BYE half a
second after the ACK. Commands on stdin, one per line:

* ``ping <port>`` sends OPTIONS to ``sip:ping@127.0.0.1:<port>;transport=tcp`` and prints
  ``PING <code>`` when the final response (or the 408 of a timeout) arrives.
* ``quit`` (or end of input) stops the stack; it prints ``BYE-STACK`` when done.

SIP traffic goes to stderr through sippy's SipLogger (``SIPLOG_BEND=stderr``).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any

from sippy.CCEvents import CCEventConnect, CCEventRing, CCEventTry
from sippy.Core.EventDispatcher import ED2
from sippy.MsgBody import MsgBody
from sippy.Network_server import Network_server_opts
from sippy.SipAddress import SipAddress
from sippy.SipConf import SipConf
from sippy.SipFrom import SipFrom
from sippy.SipLogger import SipLogger
from sippy.SipRequest import SipRequest
from sippy.SipTo import SipTo
from sippy.SipURL import SipURL
from sippy.Time.Timeout import Timeout
from sippy.UA import UA
from sippy.Udp_server import Udp_server_opts

from voice.tcp import TcpSipServer
from voice.transactions import HotlineTransactionManager

SDP = (
    "v=0\r\n"
    "o=hotline 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)


def say(line: str) -> None:
    """One line to stdout, for the test to read."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Stack:
    """Answers OPTIONS and INVITE; lives on the ED2 thread."""

    def __init__(self, host: str, port: int, tcp_options: dict[str, Any]) -> None:
        self.host = host
        self.global_config: dict[str, Any] = {
            "_sip_address": host,
            "_sip_port": port,
            "_sip_logger": SipLogger("hotline-test"),
        }
        tm = HotlineTransactionManager(self.global_config, self.recv_request)
        self.global_config["_sip_tm"] = tm
        self.tcp = TcpSipServer(Network_server_opts((host, port), tm.handleIncoming), **tcp_options)
        self.global_config["_tcp_server"] = self.tcp

    def recv_request(self, req: Any, sip_t: Any) -> Any:
        """sippy's request callback for requests outside any dialog."""
        if req.getHFBody("to").getTag() is not None:
            return (req.genResponse(481, "Call Leg/Transaction Does Not Exist"), None, None)
        method = req.getMethod()
        if method == "OPTIONS":
            return (req.genResponse(200, "OK"), None, None)
        if method == "INVITE":
            hangup = req.getRURI().username == "hangup"
            ua = UA(self.global_config, event_cb=lambda ev, ua: self.on_event(ev, ua, hangup))
            return ua.recvRequest(req, sip_t)
        return (req.genResponse(501, "Not Implemented"), None, None)

    def on_event(self, event: Any, ua: Any, hangup: bool) -> None:
        """UA events; answer on the next loop turn, not re-entrantly inside ``recvRequest``."""
        say(f"EVENT {event}")
        if isinstance(event, CCEventTry):
            Timeout(self.answer, 0.0, 1, ua, hangup)

    def answer(self, ua: Any, hangup: bool) -> None:
        ua.recvEvent(CCEventRing((180, "Ringing", None)))
        ua.recvEvent(CCEventConnect((200, "OK", MsgBody(SDP))))
        if hangup:
            Timeout(ua.disconnect, 0.5, 1)

    def ping(self, port: int) -> None:
        """OPTIONS to a TCP target we have no connection with yet."""
        url = SipURL(username="ping", host=self.host, port=port, transport="tcp")
        fr0m = SipFrom(address=SipAddress(url=SipURL(username="hotline", host=self.host)))
        fr0m.genTag()
        req = SipRequest(method="OPTIONS", ruri=url, fr0m=fr0m, to=SipTo(address=SipAddress(url=url.getCopy())))
        self.global_config["_sip_tm"].newTransaction(req, lambda resp: say(f"PING {resp.getSCode()[0]}"))

    def stop(self) -> None:
        self.tcp.shutdown()
        self.global_config["_sip_tm"].shutdown()
        ED2.breakLoop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idle-timeout", type=float, default=600.0)
    ap.add_argument("--max-connections", type=int, default=1024)
    ap.add_argument("--max-per-ip", type=int, default=32)
    ap.add_argument("--max-header", type=int, default=16384)
    ap.add_argument("--max-message", type=int, default=65535)
    args = ap.parse_args()
    tcp_options = {"idle_timeout": args.idle_timeout, "max_connections": args.max_connections,
                   "max_connections_per_ip": args.max_per_ip, "max_header_bytes": args.max_header,
                   "max_message_bytes": args.max_message}
    os.environ.setdefault("SIPLOG_BEND", "stderr")  # read by SipLogger() at construction
    Udp_server_opts.nworkers = 1  # a class attribute; per-instance values are lost in getCopy()
    SipConf.my_uaname = "Hotline-test"
    started = threading.Event()
    holder: dict[str, Stack] = {}

    def ed2_thread() -> None:
        ED2.my_ident = threading.get_ident()  # else every Timeout() prints a "wrong thread" warning
        try:
            holder["stack"] = Stack(args.host, args.port, tcp_options)
        finally:
            started.set()
        ED2.loop()

    thread = threading.Thread(target=ed2_thread, name="ed2", daemon=True)
    thread.start()
    started.wait(10)
    if "stack" not in holder:
        sys.exit(2)
    stack = holder["stack"]
    say(f"READY {args.port}")
    for line in sys.stdin:
        cmd = line.split()
        if cmd[:1] == ["ping"]:
            ED2.callFromThread(stack.ping, int(cmd[1]))
        elif cmd[:1] == ["quit"]:
            break
    ED2.callFromThread(stack.stop)
    thread.join(10)
    say("BYE-STACK" if not thread.is_alive() else "STUCK")


if __name__ == "__main__":
    main()
