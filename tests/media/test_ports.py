import asyncio
import contextlib
import itertools
import random
import socket

import pytest

from media.ports import PortAllocator, PortsExhaustedError
from tests.support.net import port_region

HOST = "127.0.0.1"


class Proto(asyncio.DatagramProtocol):
    pass


def try_block(port: int) -> socket.socket | None:
    """Bind a plain UDP socket on the port (None if something else already has it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((HOST, port))
    except OSError:
        s.close()
        return None
    return s


def free_range(n_even: int) -> int:
    """An even base port such that base, base+2, ... (n_even ports) are currently free.

    Randomised so that concurrent test runs on the same machine rarely pick the same range.
    """
    for _ in range(100):
        low, high = port_region()
        base = random.randrange(low + (low % 2), high - 2 * n_even, 2)
        socks = [try_block(base + 2 * i) for i in range(n_even)]
        for sk in socks:
            if sk is not None:
                sk.close()
        if all(sk is not None for sk in socks):
            return base
    raise RuntimeError("no free port range found")


@contextlib.contextmanager
def blocked(ports):
    socks = [try_block(p) for p in ports]
    try:
        yield socks
    finally:
        for s in socks:
            if s is not None:
                s.close()


def test_range_normalised_to_even_low():
    a = PortAllocator(41001, 41010)
    assert (a.low, a.high) == (41002, 41010)
    assert PortAllocator(41000, 41010).low == 41000
    assert a.in_use == 0


async def test_allocates_even_ports_in_range():
    # (this test also required ascending ports while allocation was round-robin, i.e. guessable)
    base = free_range(10)
    alloc = PortAllocator(base, base + 19)
    transports = []
    try:
        ports = []
        for _ in range(3):
            transport, proto, port = await alloc.bind(HOST, Proto)
            transports.append(transport)
            assert isinstance(proto, Proto)
            assert transport.get_extra_info("sockname")[1] == port
            ports.append(port)
        assert all(p % 2 == 0 and base <= p <= base + 19 for p in ports)
        assert len(set(ports)) == 3
        assert alloc.in_use == 3
    finally:
        for t in transports:
            t.close()


async def test_bind_accepts_protocol_instance():
    base = free_range(5)
    alloc = PortAllocator(base, base + 9)
    instance = Proto()
    transport, proto, _ = await alloc.bind(HOST, instance)
    try:
        assert proto is instance
    finally:
        transport.close()


async def test_skips_port_bound_by_another_socket():
    for _ in range(20):  # another process may take the port between choosing and blocking it
        base = free_range(5)
        sock = try_block(base)
        if sock is not None:
            break
    else:
        raise AssertionError("could not block a free port in 20 tries")
    alloc = PortAllocator(base, base + 9)
    try:
        transport, _, port = await alloc.bind(HOST, Proto)
        try:
            assert port != base
            assert port % 2 == 0 and base + 2 <= port <= base + 8
            assert alloc.in_use == 1
        finally:
            transport.close()
    finally:
        sock.close()


async def test_exhausted_when_range_is_full():
    base = free_range(2)
    alloc = PortAllocator(base - 1, base + 3)  # even ports base, base + 2
    transports = []
    with blocked([base]):
        try:
            with pytest.raises(PortsExhaustedError) as info:
                for _ in range(3):
                    transports.append((await alloc.bind(HOST, Proto))[0])
            assert (info.value.low, info.value.high) == (base, base + 3)
            assert f"{base}-{base + 3}" in str(info.value)
            assert len(transports) <= 1
        finally:
            for t in transports:
                t.close()


async def test_release_makes_port_reusable():
    base = free_range(1)
    alloc = PortAllocator(base, base)  # a single port
    transport, _, port = await alloc.bind(HOST, Proto)
    assert port == base
    with pytest.raises(PortsExhaustedError):
        await alloc.bind(HOST, Proto)
    transport.close()
    await asyncio.sleep(0.01)  # let the transport actually close its socket
    # closed but not released: the allocator still considers it taken
    with pytest.raises(PortsExhaustedError):
        await alloc.bind(HOST, Proto)
    alloc.release(port)
    assert alloc.in_use == 0
    transport2, _, port2 = await alloc.bind(HOST, Proto)
    try:
        assert port2 == base
        assert alloc.in_use == 1
    finally:
        transport2.close()


def test_release_unknown_port_is_harmless():
    alloc = PortAllocator(41060, 41070)
    alloc.release(12345)
    assert alloc.in_use == 0


async def test_empty_range_exhausted():
    alloc = PortAllocator(41081, 41081)  # low becomes 41082 > high
    with pytest.raises(PortsExhaustedError):
        await alloc.bind(HOST, Proto)


# -- random order (issue #11: sequential ports were easy to guess) -----------------------------------------


async def _bind_n(alloc: PortAllocator, n: int) -> list[int]:
    transports, ports = [], []
    try:
        for _ in range(n):
            transport, _, port = await alloc.bind(HOST, Proto)
            transports.append(transport)
            ports.append(port)
    finally:
        for t in transports:
            t.close()
        await asyncio.sleep(0.01)
    return ports


async def test_fifty_allocations_are_not_in_order_and_cover_the_range():
    base = free_range(100)  # 100 even ports: base .. base + 198
    alloc = PortAllocator(base, base + 199, random.Random(2024))
    ports = await _bind_n(alloc, 50)
    assert len(ports) == len(set(ports)) == 50
    assert all(p % 2 == 0 and base <= p <= base + 198 for p in ports)
    assert alloc.in_use == 50
    assert ports != sorted(ports) and ports != sorted(ports, reverse=True)
    next_port = sum(1 for a, b in itertools.pairwise(ports) if b == a + 2)
    assert next_port <= 3, f"{next_port} of 49 allocations were the previous port + 2: {ports}"
    # spread over the whole range, not a run at one end
    assert min(ports) < base + 40 and max(ports) > base + 158, ports
    assert len({(p - base) // 40 for p in ports}) == 5, "every fifth of the range is used"


async def test_the_order_is_reproducible_with_a_seeded_random():
    base = free_range(30)
    first = await _bind_n(PortAllocator(base, base + 59, random.Random(7)), 20)
    again = await _bind_n(PortAllocator(base, base + 59, random.Random(7)), 20)
    other = await _bind_n(PortAllocator(base, base + 59, random.Random(8)), 20)
    assert first == again
    assert other != first


def test_candidates_are_a_random_permutation_of_the_free_even_ports():
    alloc = PortAllocator(41001, 41040, random.Random(1))  # even ports 41002 .. 41040: 20 of them
    alloc._used.update({41010, 41020})  # as if bound
    order = list(alloc.candidates())
    assert sorted(order) == [p for p in range(41002, 41041, 2) if p not in (41010, 41020)]
    assert order != sorted(order)
    again = PortAllocator(41001, 41040, random.Random(1))
    again._used.update({41010, 41020})
    assert list(again.candidates()) == order


def test_the_default_order_is_unpredictable():
    """Without an injected Random the OS's randomness is used: two allocators disagree (a 1 in 50! chance not)."""
    a, b = PortAllocator(41000, 41099), PortAllocator(41000, 41099)
    assert list(a.candidates()) != list(b.candidates())
    assert isinstance(a._rng, random.SystemRandom)
