"""uvicorn under Hotline's own signal handling, so that shutting down stops calls and the store first.

uvicorn captures SIGINT/SIGTERM itself and, once it has stopped, raises the signal again: SIGTERM then
kills the process before Hotline could hang up its calls, finish recognition or save parked writes, and
SIGINT cancels that clean-up half-way. Here the signals only ask uvicorn to exit; Hotline's clean-up runs
after it, to the end, and a second SIGINT during it is logged, not obeyed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator

import uvicorn

log = logging.getLogger("hotline.server")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class HttpServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`serve_until_signal`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """No-op: the signals are handled on the event loop by :func:`serve_until_signal`."""
        yield


async def serve_until_signal(server: HttpServer, cleanup: Callable[[], Awaitable[None]]) -> None:
    """Serve until SIGINT/SIGTERM, then run ``cleanup`` to completion (further signals do not cut it short)."""
    loop = asyncio.get_running_loop()
    stopping = False

    def on_signal(sig: signal.Signals) -> None:
        nonlocal stopping
        if stopping:
            log.warning("%s while shutting down: still hanging up calls and saving state", sig.name)
            return
        log.info("%s: shutting down", sig.name)
        server.should_exit = True

    for sig in SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await server.serve()
    finally:
        stopping = True
        try:
            await cleanup()
        finally:
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)
