"""RTP port allocation from a configured range, in random order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import TypeVar

P = TypeVar("P", bound=asyncio.DatagramProtocol)


class PortsExhaustedError(RuntimeError):
    """No free even port left in the RTP range."""

    def __init__(self, low: int, high: int) -> None:
        super().__init__(f"no free RTP port in {low}-{high}")
        self.low = low
        self.high = high


class PortAllocator:
    """Hands out even ports of the range at random, skipping ports in use or taken by others.

    Random, so that a call's RTP port cannot be guessed from the previous call's (a guessed port is where
    an attacker would spray forged media). ``rng`` defaults to :class:`random.SystemRandom` (the OS's
    unpredictable source); pass a seeded :class:`random.Random` for a reproducible order in tests.
    """

    def __init__(self, low: int, high: int, rng: random.Random | None = None) -> None:
        self.low = low + (low % 2)
        self.high = high
        self._rng = rng if rng is not None else random.SystemRandom()
        self._used: set[int] = set()

    def candidates(self) -> Iterator[int]:
        """The free even ports of the range, each once, in random order (drawn lazily: a partial shuffle)."""
        free = [p for p in range(self.low, self.high + 1, 2) if p not in self._used]
        for i in range(len(free)):
            j = self._rng.randrange(i, len(free))
            free[i], free[j] = free[j], free[i]
            yield free[i]

    async def bind(self, host: str, factory: type[P] | P) -> tuple[asyncio.DatagramTransport, P, int]:
        """Bind a UDP endpoint on a random free port; returns (transport, protocol, port).

        Ports another socket holds are skipped; :class:`PortsExhaustedError` when none of the range binds.
        """
        loop = asyncio.get_running_loop()
        for port in self.candidates():
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
