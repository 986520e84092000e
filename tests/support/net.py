"""Free loopback ports for test servers, chosen outside the kernel's ephemeral range.

A port taken from ``bind(0)`` is an ephemeral port: after we close it, the kernel may hand the same
number to any outgoing connection (an HTTP client, a WebSocket, a phone) before our server binds it.
Picking from below the ephemeral range removes that race; only another test's server could collide,
and every pick is checked by binding it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANDOM = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def port_region() -> tuple[int, int]:
    """The inclusive range test ports are drawn from: below the ephemeral range when there is room."""
    low, high = _ephemeral_range()
    if low - 1 - 10000 >= 4000:
        return 10000, low - 1
    return high + 1, 65535


def _bindable(port: int, kinds: tuple[int, ...]) -> bool:
    socks: list[socket.socket] = []
    try:
        for kind in kinds:
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(kind: int = socket.SOCK_DGRAM, both: bool = True) -> int:
    """A port free for ``kind`` (and the other of UDP/TCP when ``both``) on 127.0.0.1."""
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM) if both else (kind,)
    low, high = port_region()
    for _ in range(200):
        port = _RANDOM.randint(low, high)
        if _bindable(port, kinds):
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def free_range(size: int = 40) -> tuple[int, int]:
    """An even-aligned range of ``size`` ports that are currently free for UDP."""
    low, high = port_region()
    for _ in range(200):
        base = _RANDOM.randrange(low + (low % 2), high - size, 2)
        if all(_bindable(p, (socket.SOCK_DGRAM,)) for p in range(base, base + size)):
            return base, base + size - 1
    raise RuntimeError(f"no free range of {size} ports in {low}-{high}")


def listening_socket() -> socket.socket:
    """A TCP socket already bound and listening on a free loopback port (no window for another taker)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", free_port(socket.SOCK_STREAM, both=False)))
    s.listen(128)
    return s


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """True when the other side closes (or resets) the connection within ``timeout``."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True
