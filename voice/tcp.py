"""SIP over TCP for sippy (RFC 3261 §18): a stream transport and a transaction manager that uses it.

sippy ships only UDP and WSS servers. :class:`TcpSipServer` is a sippy ``Network_server`` that runs
its own asyncio loop in a thread, frames the byte stream into SIP messages by Content-Length and hands
each one to sippy on the ``ED2`` thread. :class:`HotlineTransactionManager` sends requests whose target
transport is ``tcp`` through it and switches off the UDP-only retransmission timers for them.

Limits, all closing the connection without an answer (nothing on it can be trusted to frame a response):
inbound connections beyond ``max_connections`` in total or ``max_connections_per_ip`` from one address
are closed as soon as accepted; a header block longer than ``max_header_bytes``, a message longer than
``max_message_bytes`` (by its Content-Length) or a missing/malformed Content-Length closes it, so a
connection never buffers more than about ``max_message_bytes`` plus one read; and a connection on which
no complete message (or RFC 5626 CRLFCRLF keep-alive, answered with a CRLF) went either way for
``idle_timeout`` seconds is closed, however many stray bytes arrived meanwhile.

Wiring (all on the ED2 thread, after ``ED2.my_ident`` points at it)::

    tm = HotlineTransactionManager(global_config, req_cb)
    tcp = TcpSipServer(Network_server_opts((host, port), tm.handleIncoming))
    global_config["_sip_tm"], global_config["_tcp_server"] = tm, tcp
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field

from sippy.Core.EventDispatcher import ED2
from sippy.Network_server import Network_server, Network_server_opts, Remote_address
from sippy.Time.MonoTime import MonoTime

from voice.ratelimit import LogThrottle

log = logging.getLogger("hotline.voice.tcp")

Address = tuple[str, int]

MAX_HEADER_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 65535
_CRLF2 = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)


class SipFramingError(ValueError):
    """The byte stream on a connection cannot be split into SIP messages; the connection must go."""

    def __init__(self, reason: str, buffered: int) -> None:
        super().__init__(f"bad SIP stream ({buffered} bytes buffered): {reason}")
        self.reason = reason
        self.buffered = buffered


class SipStreamFramer:
    """Splits a SIP byte stream into messages (RFC 3261 §18.3). Pure; one instance per connection."""

    def __init__(self, max_header_bytes: int = MAX_HEADER_BYTES, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_message_bytes = max_message_bytes
        self.pings = 0  # RFC 5626 keep-alives (CRLFCRLF between messages) seen so far
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buf)

    def next_message(self) -> bytes | None:
        """The next complete message, or None if more bytes are needed.

        Leading CR/LF are dropped; each CRLFCRLF among them counts in :attr:`pings`. Raises
        :class:`SipFramingError` when the header block or the message is too large, or Content-Length
        is missing, malformed or conflicting.
        """
        start = 0
        while start < len(self._buf) and self._buf[start] in b"\r\n":
            start += 1
        if start:
            self.pings += bytes(self._buf[:start]).count(_CRLF2)
            del self._buf[:start]
        end = self._buf.find(_CRLF2, 0, self.max_header_bytes + len(_CRLF2))
        if end < 0:
            if len(self._buf) > self.max_header_bytes:
                raise SipFramingError(f"no end of headers within {self.max_header_bytes} bytes", len(self._buf))
            return None
        body_len = self._content_length(bytes(self._buf[:end]))
        total = end + len(_CRLF2) + body_len
        if total > self.max_message_bytes:
            raise SipFramingError(f"message of {total} bytes (Content-Length {body_len}) exceeds "
                                  f"{self.max_message_bytes}", len(self._buf))
        if len(self._buf) < total:
            return None
        msg = bytes(self._buf[:total])
        del self._buf[:total]
        return msg

    def _content_length(self, head: bytes) -> int:
        values = {m.group(1) for line in head.split(b"\r\n")[1:] if (m := _CONTENT_LENGTH.match(line))}
        if not values:
            raise SipFramingError("Content-Length missing on a stream transport", len(self._buf))
        if len(values) > 1:
            raise SipFramingError(f"conflicting Content-Length values {sorted(values)!r}", len(self._buf))
        raw = values.pop()
        if not raw.isdigit():
            raise SipFramingError(f"invalid Content-Length {raw[:32]!r}", len(self._buf))
        return int(raw)


def _norm_host(host: str) -> str:
    """sippy spells IPv6 hosts in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _bare_host(host: str) -> str:
    return host[1:-1] if host.startswith("[") else host


@dataclass(eq=False)
class _Connection:
    peer: Address
    writer: asyncio.StreamWriter
    outbound: bool
    last_active: float = field(default_factory=time.monotonic)  # the last complete message either way
    keys: set[Address] = field(default_factory=set)


class TcpSipServer(Network_server):
    """sippy network server for SIP over TCP, with an asyncio loop in its own thread.

    Construct it on the ED2 thread with ``Network_server_opts((host, port), tm.handleIncoming)``;
    the listening socket is bound in the constructor, so ``OSError`` (port in use) surfaces there.
    Port 0 picks a free port; ``uopts.laddress`` then holds the real one.
    """

    transport = "tcp"

    def __init__(
        self,
        uopts: Network_server_opts,
        *,
        idle_timeout: float = 600.0,
        connect_timeout: float = 5.0,
        max_connections: int = 1024,
        max_connections_per_ip: int = 32,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_write_buffer: int = 4 * 1024 * 1024,
        log_interval_s: float = 10.0,
    ) -> None:
        super().__init__(uopts)
        host, port = self.uopts.laddress
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self.max_connections_per_ip = max_connections_per_ip
        self.max_header_bytes = max_header_bytes
        self.max_message_bytes = max_message_bytes
        self.max_write_buffer = max_write_buffer
        self.refused_connections = 0
        self._inbound: dict[str, int] = {}  # open inbound connections per peer host (transport thread only)
        self._refusals = LogThrottle(log_interval_s)
        self._framing = LogThrottle(log_interval_s)  # connections closed for what they sent
        family = socket.AF_INET6 if ":" in _bare_host(host) else socket.AF_INET
        self._sock = socket.create_server((_bare_host(host), int(port)), family=family, backlog=128)
        self.uopts.laddress = (host, self._sock.getsockname()[1])
        self._conns: dict[Address, _Connection] = {}
        self._pending: dict[Address, list[bytes]] = {}
        self._stop = asyncio.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"sip-tcp-{port}", daemon=True)
        self._thread.start()

    # -- called on the ED2 thread -----------------------------------------
    def send_to(self, data: bytes | str, address: object, delayed: bool = False) -> None:
        """Queue ``data`` for the connection to ``address`` (see :meth:`_route`)."""
        super().send_to(data, address, delayed)
        self._wake()

    def shutdown(self) -> None:
        """Close the listener and every connection, then stop the thread."""
        self.sendqueue.put(None)
        self._wake()
        self.join()
        self.uopts.data_callback = None

    def join(self, timeout: float | None = 10.0) -> None:
        """Wait for the transport thread to finish."""
        self._thread.join(timeout)

    def connection_count(self) -> int:
        """Open connections (a snapshot; for stats and tests)."""
        return len({id(c) for c in list(self._conns.values())})

    def inbound_count(self) -> int:
        """Open inbound connections (a snapshot; what ``max_connections`` caps)."""
        return sum(list(self._inbound.values()))

    def _wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._drain_sendqueue)
        except RuntimeError:
            log.warning("SIP/TCP %s: transport loop is closed, %d items dropped", self.uopts.laddress,
                        self.sendqueue.qsize())

    # -- the transport thread ---------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except Exception:
            log.exception("SIP/TCP %s: transport loop failed", self.uopts.laddress)
        finally:
            self._loop.close()

    async def _main(self) -> None:
        server = await asyncio.start_server(self._accepted, sock=self._sock)
        self._drain_sendqueue()
        await self._stop.wait()
        server.close()
        for conn in {id(c): c for c in self._conns.values()}.values():
            conn.writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _drain_sendqueue(self) -> None:
        while not self.sendqueue.empty():
            item = self.sendqueue.get_nowait()
            if item is None:
                self._stop.set()
                return
            data, address = item
            try:
                self._route(data, (_norm_host(str(address[0])), int(address[1])))
            except Exception:
                log.exception("SIP/TCP: cannot send %d bytes to %r", len(data), address)

    def _route(self, data: bytes, addr: Address) -> None:
        conn = self._conns.get(addr)
        if conn is None:
            same_host = [c for c in self._conns.values() if c.peer[0] == addr[0]]
            conn = max(same_host, key=lambda c: c.last_active, default=None)
        if conn is not None and not conn.writer.is_closing():
            self._write(conn, data)
        elif addr in self._pending:
            self._pending[addr].append(data)
        else:
            self._pending[addr] = [data]
            asyncio.get_running_loop().create_task(self._connect(addr))

    def _write(self, conn: _Connection, data: bytes) -> None:
        conn.writer.write(data)
        conn.last_active = time.monotonic()
        backlog = conn.writer.transport.get_write_buffer_size()
        if backlog > self.max_write_buffer:
            log.warning("SIP/TCP %s: peer not reading, %d bytes backlog; closing", conn.peer, backlog)
            conn.writer.transport.abort()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        host = _norm_host(host)
        total, mine = sum(self._inbound.values()), self._inbound.get(host, 0)
        if total >= self.max_connections or mine >= self.max_connections_per_ip:
            self._refuse(host, total, mine)
            writer.transport.abort()
            return
        self._inbound[host] = mine + 1
        try:
            await self._serve(_Connection((host, port), writer, outbound=False), reader)
        finally:
            left = self._inbound.pop(host) - 1
            if left:
                self._inbound[host] = left

    def _refuse(self, host: str, total: int, mine: int) -> None:
        self.refused_connections += 1
        now = time.monotonic()
        which = "total" if total >= self.max_connections else host
        if self._refusals.note(which, now):
            log.warning("SIP/TCP: connection limits (%d in total, %d per IP) reached: %d connection(s) closed on "
                        "accept since the last report (%s); now %d open, %d from %s", self.max_connections,
                        self.max_connections_per_ip, sum(self._refusals.counts.values()),
                        ", ".join(f"{k}: {v}" for k, v in list(self._refusals.counts.items())[:5]), total, mine,
                        host)
            self._refusals.reset(now)

    async def _connect(self, addr: Address) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(_bare_host(addr[0]), addr[1]), self.connect_timeout)
        except (OSError, TimeoutError) as ex:
            dropped = self._pending.pop(addr, [])
            log.warning("SIP/TCP: connect to %s:%d failed (%r); %d messages dropped",
                        addr[0], addr[1], ex, len(dropped))
            return
        host, port = writer.get_extra_info("peername")[:2]
        conn = _Connection((_norm_host(host), port), writer, outbound=True)
        conn.keys.add(addr)
        self._conns[addr] = conn
        for data in self._pending.pop(addr, []):
            self._write(conn, data)
        await self._serve(conn, reader)

    async def _serve(self, conn: _Connection, reader: asyncio.StreamReader) -> None:
        conn.keys.add(conn.peer)
        self._conns[conn.peer] = conn
        framer = SipStreamFramer(self.max_header_bytes, self.max_message_bytes)
        log.debug("SIP/TCP: %s connection with %s", "outbound" if conn.outbound else "inbound", conn.peer)
        try:
            while True:
                wait = conn.last_active + self.idle_timeout - time.monotonic()
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), max(wait, 0.0))
                except TimeoutError:
                    if time.monotonic() - conn.last_active >= self.idle_timeout:
                        log.info("SIP/TCP: %s idle for %.0f s; closing", conn.peer, self.idle_timeout)
                        break
                    continue
                if not chunk:
                    break
                framer.feed(chunk)
                pings, complete = framer.pings, False
                while (msg := framer.next_message()) is not None:
                    complete = True
                    ra = Remote_address(conn.peer, self.transport)
                    ED2.callFromThread(self.handle_read, msg, ra, MonoTime())
                if framer.pings > pings:
                    conn.writer.write(b"\r\n")  # RFC 5626 §4.4.1 pong
                if complete or framer.pings > pings:
                    conn.last_active = time.monotonic()  # stray bytes of an unfinished message do not count
        except SipFramingError as ex:
            now = time.monotonic()
            if self._framing.note("closed", now):
                log.warning("SIP/TCP: %d connection(s) closed for malformed or oversized messages since the last "
                            "report; the latest with %s: %s", self._framing.counts["closed"], conn.peer, ex)
                self._framing.reset(now)
        except (OSError, asyncio.IncompleteReadError) as ex:
            log.info("SIP/TCP: connection with %s lost: %r", conn.peer, ex)
        finally:
            for key in conn.keys:
                if self._conns.get(key) is conn:
                    del self._conns[key]
            conn.writer.close()
