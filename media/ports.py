"""RTP port allocation from a configured range."""

from __future__ import annotations

import asyncio
from typing import TypeVar

P = TypeVar("P", bound=asyncio.DatagramProtocol)


class PortsExhaustedError(RuntimeError):
    """No free even port left in the RTP range."""

    def __init__(self, low: int, high: int) -> None:
        super().__init__(f"no free RTP port in {low}-{high}")
        self.low = low
        self.high = high


class PortAllocator:
    """Hands out even ports round-robin, skipping ports in use or taken by others."""

    def __init__(self, low: int, high: int) -> None:
        self.low = low + (low % 2)
        self.high = high
        self._next = self.low
        self._used: set[int] = set()

    async def bind(self, host: str, factory: type[P] | P) -> tuple[asyncio.DatagramTransport, P, int]:
        """Bind a UDP endpoint on the next free port; returns (transport, protocol, port)."""
        loop = asyncio.get_running_loop()
        span = (self.high - self.low) // 2 + 1
        for _ in range(span):
            port = self._next
            self._next = self.low if self._next + 2 > self.high else self._next + 2
            if port in self._used:
                continue
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    (lambda: factory) if isinstance(factory, asyncio.DatagramProtocol) else factory,
                    local_addr=(host, port),
                )
            except OSError:
                continue
            self._used.add(port)
            return transport, protocol, port
        raise PortsExhaustedError(self.low, self.high)

    def release(self, port: int) -> None:
        """Return a port to the pool."""
        self._used.discard(port)

    @property
    def in_use(self) -> int:
        """Ports currently allocated."""
        return len(self._used)
