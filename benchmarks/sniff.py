"""Optional loopback packet clock (needs root): when did RTP packets reach the server's ports on the wire?

Used to check ``media.first_frame_at`` against the first RTP packet's kernel arrival. Without the
privilege to open an AF_PACKET socket it records nothing and the figures that need it are left out.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

ETH_P_ALL = 0x0003


def rtp_on_loopback(data: bytes, outgoing: bool, low: int, high: int) -> tuple[int, int, bytes] | None:
    """(source port, destination port, RTP bytes) of an AF_PACKET frame from ``lo`` that carries an RTP
    version-2 datagram to a UDP port in ``low..high``; None for anything else.

    Loopback shows each packet twice: only the incoming copy is kept. IPv4 only.
    """
    if outgoing or len(data) < 54 or data[12:14] != b"\x08\x00":
        return None
    ip = data[14:]
    if ip[9] != 17:
        return None
    udp = ip[(ip[0] & 0x0F) * 4 :]
    sport, dport = struct.unpack("!HH", udp[:4])
    rtp = bytes(udp[8:])
    if not (low <= dport <= high) or len(rtp) < 12 or rtp[0] >> 6 != 2:
        return None
    return sport, dport, rtp


class RtpSniffer:
    """Records (arrival wall clock, destination port, RTP sequence) of G.711 RTP packets to a port range on lo."""

    def __init__(self, low: int, high: int, limit_s: float = 900) -> None:
        self.low, self.high, self.limit_s = low, high, limit_s
        self.packets: list[tuple[float, int, int]] = []
        self.available = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._sock: socket.socket | None = None

    def __enter__(self) -> RtpSniffer:
        try:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
            self._sock.bind(("lo", 0))
            self._sock.settimeout(0.2)
            self.available = True
            self._thread.start()
        except (OSError, AttributeError):
            self._sock = None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()

    def first_after(self, t: float) -> float | None:
        """Arrival time of the first RTP packet seen at or after wall clock ``t``."""
        return next((at for at, _, _ in self.packets if at >= t), None)

    def _run(self) -> None:
        assert self._sock is not None
        deadline = time.monotonic() + self.limit_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                data, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            at = time.time()
            found = rtp_on_loopback(data, addr[2] == socket.PACKET_OUTGOING, self.low, self.high)
            if found is not None and found[2][1] & 0x7F in (0, 8):  # G.711
                self.packets.append((at, found[1], struct.unpack("!H", found[2][2:4])[0]))
