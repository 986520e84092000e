"""Watching real calls: find a new call fast, follow its WebSocket events, align its recording with a file."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from websockets.sync.client import connect

from tests.support.audio import codec_round_trip
from tests.support.server import ServerHandle


@dataclass
class CallWatch:
    """Events of one call, each with the local wall-clock time it arrived."""

    call_id: str | None = None
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None

    def of(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        """Arrival time and body of every event of one type."""
        return [(t, e) for t, e in self.events if e.get("type") == kind]

    @property
    def first_frame_at(self) -> float | None:
        """Server wall clock of the caller's first audio frame."""
        media = self.of("media")
        return float(media[0][1]["first_frame_at"]) if media else None


def follow_events(handle: ServerHandle, call_id: str, watch: CallWatch, timeout_s: float = 120) -> None:
    """Read the call's WebSocket until the server closes it (after the call ends)."""
    url = f"ws://127.0.0.1:{handle.http_port}/api/v1/calls/{call_id}/events?token={handle.key}"
    deadline = time.monotonic() + timeout_s
    with connect(url, open_timeout=10, close_timeout=2) as ws:
        while time.monotonic() < deadline:
            try:
                raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            except Exception:  # closed by the server: the call is over
                return
            watch.events.append((time.time(), json.loads(raw)))


class NewCallWatcher:
    """Polls GET /api/v1/calls every ``poll_s`` for a call not seen before, then follows its events."""

    def __init__(self, handle: ServerHandle, poll_s: float = 0.02, timeout_s: float = 120) -> None:
        self.handle, self.poll_s, self.timeout_s = handle, poll_s, timeout_s
        with handle.client() as c:
            self._known = {x["id"] for x in c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]}
        self.watch = CallWatch()
        self.found_after_s: float | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> NewCallWatcher:
        """Begin polling."""
        self._thread.start()
        return self

    def join(self, timeout: float = 60) -> CallWatch:
        """Wait until the call's event stream closed."""
        self._thread.join(timeout)
        return self.watch

    def _run(self) -> None:
        t0 = time.monotonic()
        deadline = t0 + self.timeout_s
        try:
            with self.handle.client() as c:
                while time.monotonic() < deadline and self.watch.call_id is None:
                    for call in c.get("/api/v1/calls", params={"limit": 20}).json()["calls"]:
                        if call["id"] not in self._known:
                            self.watch.call_id = call["id"]
                            break
                    else:
                        time.sleep(self.poll_s)
            if self.watch.call_id is None:
                self.watch.error = "no new call appeared"
                return
            self.found_after_s = time.monotonic() - t0
            follow_events(self.handle, self.watch.call_id, self.watch, max(1.0, deadline - time.monotonic()))
        except Exception as exc:
            self.watch.error = f"{type(exc).__name__}: {exc}"


def recording_offset_s(recording: Path, wav: Path, codec: str = "PCMU", search_s: float = 2.0) -> tuple[float, float]:
    """Where the file starts in the server's recording (seconds) and the normalized correlation there.

    The reference is the file after the codec round trip (16 kHz); only lags 0..``search_s`` are searched.
    """
    heard, rate = sf.read(str(recording), dtype="float64")
    ref = codec_round_trip(wav, codec).astype(np.float64)
    max_lag = int(search_s * rate)
    n = min(ref.size, heard.size - max_lag) if heard.size > max_lag else 0
    if n <= rate:
        return 0.0, 0.0
    a, b = heard[: n + max_lag], ref[:n]
    size = 1 << int(np.ceil(np.log2(a.size + b.size)))
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)[: max_lag + 1]
    lag = int(np.argmax(corr))
    seg = a[lag : lag + n]
    norm = float(np.sqrt(np.dot(seg, seg) * np.dot(b, b))) or 1.0
    return lag / rate, float(corr[lag] / norm)
