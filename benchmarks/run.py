"""``python -m benchmarks.run [--only NAME ...] [--quick]``: run benchmarks, print a table, write JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from benchmarks import capacity, hint_latency, latency, overhead, routing, setup_rate
from benchmarks.harness import RESULTS, BenchResult, machine_info

BENCHES: dict[str, ModuleType] = {"latency": latency, "overhead": overhead, "capacity": capacity,
                                  "setup_rate": setup_rate, "routing": routing,
                                  "hint_latency": hint_latency}


def _system_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as fh:
        vals = [int(x) for x in fh.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


def run_one(name: str, fn: Callable[[bool], BenchResult], quick: bool) -> BenchResult:
    """Run a benchmark, turning a crash into a failed result."""
    t0, (b0, s0) = time.monotonic(), _system_busy()
    load0 = os.getloadavg()
    try:
        res = fn(quick)
    except Exception as exc:
        res = BenchResult(name, error=f"{type(exc).__name__}: {exc}")
        res.details["traceback"] = traceback.format_exc()
    b1, s1 = _system_busy()
    res.elapsed_s = time.monotonic() - t0
    res.details["machine_load"] = {"loadavg_before": load0, "loadavg_after": os.getloadavg(),
                                   "system_cpu_busy_pct": round(100 * (b1 - b0) / max(1, s1 - s0), 1)}
    return res


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def table(results: list[BenchResult]) -> str:
    """One row per figure."""
    lines = [f"{'benchmark':<11} {'figure':<44} {'value':>10} {'unit':<12} {'target':>10}  result"]
    lines.append("-" * len(lines[0]))
    for r in results:
        if r.error:
            lines.append(f"{r.name:<11} {'ERROR: ' + r.error[:90]}")
        for f in r.figures:
            target = f"{f.op} {_fmt(f.target)}" if f.op else ""
            verdict = {True: "PASS", False: "FAIL", None: ""}[f.passed]
            lines.append(f"{r.name:<11} {f.name:<44} {_fmt(f.value):>10} {f.unit:<12} {target:>10}  {verdict}")
        lines.append(f"{r.name:<11} {'(elapsed)':<44} {r.elapsed_s:>10.0f} {'s':<12}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit 0 when every target is met."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    ap.add_argument("--only", action="append", choices=sorted(BENCHES), help="run only this benchmark (repeatable)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few minutes")
    ap.add_argument("--out", default=str(RESULTS / "latest.json"), help="where to write the JSON results")
    args = ap.parse_args(argv)
    names = args.only or list(BENCHES)
    info = machine_info()
    results = []
    for name in names:
        print(f"running {name}{' (quick)' if args.quick else ''} ...", file=sys.stderr, flush=True)
        results.append(run_one(name, BENCHES[name].run, args.quick))
        print(table(results[-1:]), file=sys.stderr, flush=True)
    print(table(results))
    info["loadavg_at_end"] = os.getloadavg()
    benches = {r.name: {**r.to_json(), "run_at": info["date"], "quick": args.quick} for r in results}
    if args.only:  # keep the other benchmarks of an earlier run in the same file
        benches = {**_earlier(args.out), **benches}
    doc = {"machine": info, "quick": args.quick, "passed": all(b["passed"] for b in benches.values()),
           "benchmarks": {name: benches[name] for name in BENCHES if name in benches}}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False, default=str)
    print(f"results: {args.out}")
    return 0 if all(r.passed for r in results) else 1


def _earlier(path: str) -> dict[str, Any]:
    """Benchmarks already in a results file (each carries its own run_at)."""
    try:
        with open(path) as fh:
            return dict(json.load(fh).get("benchmarks", {}))
    except (OSError, ValueError):
        return {}


if __name__ == "__main__":
    sys.exit(main())
