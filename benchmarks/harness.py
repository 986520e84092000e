"""Shared benchmark plumbing: figures, results, a server per benchmark, /proc readers, samplers."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.server import ServerHandle, start_server

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Figure:
    """One measured number with its target (``op`` is how value compares to target to pass)."""

    name: str
    value: float | None
    unit: str = ""
    target: float | None = None
    op: str = ""  # "<=", ">=" or "" (informational)

    @property
    def passed(self) -> bool | None:
        """None for informational figures."""
        if not self.op or self.target is None:
            return None
        if self.value is None:
            return False
        return self.value <= self.target if self.op == "<=" else self.value >= self.target

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, with the verdict."""
        return {**asdict(self), "passed": self.passed}


@dataclass
class BenchResult:
    """What one benchmark reports."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    error: str | None = None

    def add(self, name: str, value: float | None, unit: str = "", target: float | None = None,
            op: str = "") -> Figure:
        """Append a figure (values rounded for display and JSON)."""
        fig = Figure(name, None if value is None else round(float(value), 4), unit, target, op)
        self.figures.append(fig)
        return fig

    @property
    def passed(self) -> bool:
        """No error and no figure with a target failed."""
        return self.error is None and all(f.passed is not False for f in self.figures)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "passed": self.passed, "elapsed_s": round(self.elapsed_s, 1),
                "error": self.error, "figures": [f.to_json() for f in self.figures], "notes": self.notes,
                "details": self.details}


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values: list[float]) -> dict[str, float | int | None]:
    """Count, mean, p50, p95, max."""
    return {"n": len(values), "mean": statistics.fmean(values) if values else None,
            "p50": percentile(values, 50), "p95": percentile(values, 95), "max": max(values) if values else None}


# -- ports --------------------------------------------------------------------------------------
def udp_range_free(low: int, high: int) -> bool:
    """Whether every port in [low, high] is currently free for UDP on loopback."""
    for port in range(low, high + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def find_port_range(size: int, lo: int = 20000, hi: int = 32000, avoid: tuple[int, int] | None = None
                    ) -> tuple[int, int]:
    """An even-aligned free UDP range of ``size`` ports inside [lo, hi), below the ephemeral range."""
    start = lo + (lo % 2)
    while start + size <= hi:
        end = start + size - 1
        if (avoid is None or end < avoid[0] or start > avoid[1]) and udp_range_free(start, end):
            return start, end
        start += size + (size % 2)
    raise RuntimeError(f"no free UDP range of {size} ports in {lo}-{hi}")


# -- server -------------------------------------------------------------------------------------
@contextmanager
def server(config: dict[str, Any], rtp_ports: int = 40, keep: Path | None = None) -> Iterator[ServerHandle]:
    """A fresh ``hotline serve`` in a temporary workdir; stopped (and the workdir removed) afterwards."""
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    cfg = {section: dict(values) for section, values in config.items()}
    low, high = find_port_range(rtp_ports + (rtp_ports % 2))
    cfg.setdefault("media", {}).update({"rtp_port_min": low, "rtp_port_max": high})
    cfg.setdefault("log", {}).setdefault("level", "WARNING")
    handle = start_server(work, cfg)
    try:
        yield handle
    finally:
        handle.stop()
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(handle.log_path, keep / "server.log")
        shutil.rmtree(work, ignore_errors=True)


def metrics(handle: ServerHandle) -> dict[str, Any]:
    """The server's /metrics as {sample name with labels: value}, histogram buckets included."""
    with handle.client() as c:
        text = c.get("/metrics").text
    out: dict[str, Any] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def histogram(m: dict[str, Any], name: str) -> dict[str, Any]:
    """Count, mean and bucket-estimated p50/p95 of a Prometheus histogram in ``metrics()`` form."""
    prefix = f"{name}_bucket{{le="
    buckets = sorted((float(k[len(prefix):-1]), v) for k, v in m.items() if k.startswith(prefix))
    count = m.get(f"{name}_count", 0.0)
    total = m.get(f"{name}_sum", 0.0)

    def quantile(q: float) -> float | None:
        if not count:
            return None
        rank, prev_le, prev_n = q * count, 0.0, 0.0
        for le, n in buckets:
            if n >= rank:
                if le == float("inf"):
                    return prev_le
                return prev_le + (le - prev_le) * ((rank - prev_n) / (n - prev_n) if n > prev_n else 0)
            prev_le, prev_n = le, n
        return None

    return {"count": count, "mean": total / count if count else None, "p50": quantile(0.5),
            "p95": quantile(0.95), "buckets": {str(le): n for le, n in buckets}}


# -- /proc ----------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size in MiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def udp_drops(ports: set[int] | Callable[[int], bool]) -> dict[tuple[int, str], int]:
    """Kernel receive drops of loopback UDP sockets by (local port, inode), from /proc/net/udp."""
    keep = ports if callable(ports) else ports.__contains__
    out: dict[tuple[int, str], int] = {}
    with open("/proc/net/udp") as fh:
        next(fh)
        for line in fh:
            cols = line.split()
            port = int(cols[1].split(":")[1], 16)
            if keep(port):
                out[(port, cols[9])] = int(cols[12])
    return out


class Sampler:
    """A background thread calling ``probe`` every ``period`` seconds until stopped (bounded by ``limit_s``)."""

    def __init__(self, probe: Callable[[], None], period: float = 0.5, limit_s: float = 600) -> None:
        self._probe, self._period, self._limit = probe, period, limit_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        deadline = time.monotonic() + self._limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            with suppress(OSError, httpx.HTTPError, ValueError):
                self._probe()
            self._stop.wait(self._period)


class LoadProbe:
    """Samples /health (response time, active calls), server CPU and kernel UDP drops during a load step."""

    def __init__(self, handle: ServerHandle, drop_ports: Callable[[int], bool]) -> None:
        self.handle = handle
        self.health_ms: list[float] = []
        self.health_errors = 0
        self.active: list[int] = []
        self.drops: dict[tuple[int, str], int] = {}
        self._ports = drop_ports
        self._client = httpx.Client(base_url=handle.http, timeout=5)
        self._cpu: list[tuple[float, float]] = []

    def probe(self) -> None:
        """One sample."""
        for key, n in udp_drops(self._ports).items():
            self.drops[key] = max(n, self.drops.get(key, 0))
        self._cpu.append((time.monotonic(), cpu_seconds(self.handle.proc.pid)))
        t0 = time.perf_counter()
        try:
            r = self._client.get("/health")
            self.health_ms.append((time.perf_counter() - t0) * 1000)
            self.active.append(int(r.json()["active_calls"]))
        except httpx.HTTPError:
            self.health_errors += 1

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()

    def report(self) -> dict[str, Any]:
        """What was seen."""
        busy = [(c2 - c1) / (t2 - t1) for (t1, c1), (t2, c2) in zip(self._cpu, self._cpu[1:], strict=False)
                if t2 > t1]
        return {"health_ms": summary(self.health_ms), "health_errors": self.health_errors,
                "peak_active_calls": max(self.active, default=0), "udp_drops": sum(self.drops.values()),
                "server_cpu_cores": summary(busy)}


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, Python, load and date of this run."""
    import datetime
    import platform

    model = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"cpu_model": model, "cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "loadavg_at_start": os.getloadavg()}


def shipped_config(**overrides: dict[str, Any]) -> dict[str, Any]:
    """configs/hotline.yaml (what `make run` uses) minus what each benchmark server sets itself.

    Addresses, ports, store, recording directory and logging come from start_server/``server``;
    everything else (VAD, jitter buffer, codecs, ASR settings, max calls ...) is the shipped config.
    """
    import yaml

    raw = yaml.safe_load((ROOT / "configs" / "hotline.yaml").read_text()) or {}
    drop = {"sip": ("host", "port"), "http": ("host", "port"), "media": ("rtp_port_min", "rtp_port_max", "record_dir"),
            "store": ("url",), "log": ("level", "json")}
    cfg: dict[str, Any] = {}
    for section, values in raw.items():
        if isinstance(values, dict):
            cfg[section] = {k: v for k, v in values.items() if k not in drop.get(section, ())}
    for section, values in overrides.items():
        cfg.setdefault(section, {}).update(values)
    return {k: v for k, v in cfg.items() if v}


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (utime + stime) of every thread of a process, by OS thread id."""
    out: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError, IndexError, ValueError):
            out[int(task.name)] = cpu_seconds_path(task / "stat")
    return out


def cpu_seconds_path(stat: Path) -> float:
    """utime + stime from a /proc .../stat file."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_names(pid: int) -> dict[int, str]:
    """Python thread names by OS thread id, from ``py-spy dump --json`` (empty when py-spy is missing)."""
    import json
    import subprocess
    import sys

    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        return {}
    try:
        out = subprocess.run([spy, "dump", "--pid", str(pid), "--json", "--nonblocking"], capture_output=True,
                             text=True, timeout=30).stdout
        return {int(t["os_thread_id"]): str(t.get("thread_name") or "?") for t in json.loads(out)
                if t.get("os_thread_id")}
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return {}


def cpu_by_thread_group(before: dict[int, float], after: dict[int, float], names: dict[int, str],
                        pid: int) -> dict[str, float]:
    """CPU spent between two ``thread_cpu`` snapshots, grouped by thread role."""
    groups: dict[str, float] = {}
    for tid, cpu in after.items():
        name = names.get(tid, "MainThread" if tid == pid else "unnamed")
        role = ("vosk decoder" if name.startswith("vosk") else "event loop (MainThread)" if name == "MainThread"
                else "sippy" if name == "sippy" else "store" if name.startswith("store") else "other threads")
        groups[role] = groups.get(role, 0.0) + cpu - before.get(tid, 0.0)
    return {k: round(v, 3) for k, v in sorted(groups.items())}
