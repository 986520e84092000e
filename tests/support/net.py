"""Free loopback ports."""

from __future__ import annotations

import socket


def free_port(kind: int = socket.SOCK_DGRAM, both: bool = True) -> int:
    """A port free for UDP (and TCP when ``both``) on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not both:
            return port
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(socket.AF_INET, other) as s2:
                s2.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def free_range(size: int = 40) -> tuple[int, int]:
    """An even-aligned range of ports that are currently free for UDP."""
    import random

    for _ in range(100):
        low = random.randrange(40000, 60000, 2)
        ok = True
        for p in range(low, low + size):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return low, low + size - 1
    raise RuntimeError("no free port range")


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
