"""Serve one FastAPI app under uvicorn in a thread of the test process (no SIP, no recognition)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.net import listening_socket


@contextmanager
def serve_in_thread(app: FastAPI, timeout: float = 10) -> Iterator[str]:
    """Run ``app`` on a free loopback port; yields its base URL and stops it afterwards."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        if not server.started:
            raise AssertionError(f"the app did not start within {timeout} s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True
        thread.join(timeout)
        sock.close()
