"""Profile the server under sipp load with py-spy: ``python -m benchmarks.profile --calls 150 [--asr]``.

Needs py-spy in the virtualenv (``.venv/bin/pip install py-spy``; not a project dependency).
Prints the functions with the most samples (own and inclusive) and writes the collapsed stacks.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks import sipp, speech
from benchmarks.harness import RESULTS, server, shipped_config


def top(collapsed: Path, n: int = 25) -> str:
    """Own and inclusive sample counts per function from py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1] if " (" in f else f for f in stack.split(";")]
        k = int(count)
        total += k
        own[frames[-1]] += k
        for f in set(frames):
            incl[f] += k
    rows = [f"samples: {total}", "-- own --"]
    rows += [f"{100 * c / total:5.1f}%  {f}" for f, c in own.most_common(n)]
    rows += ["-- inclusive --"]
    rows += [f"{100 * c / total:5.1f}%  {f}" for f, c in incl.most_common(n)]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Start a server, load it with sipp, record it with py-spy."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    ap.add_argument("--calls", type=int, default=150)
    ap.add_argument("--asr", action="store_true", help="recognition on (default off)")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long each call streams")
    ap.add_argument("--hold", type=float, default=0.0, help="0: stream RTP; >0: setup-rate calls held this long")
    ap.add_argument("--rate", type=float, default=0.0, help="calls per second (default calls/5, at most 50)")
    args = ap.parse_args(argv)
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy not found: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    rate = args.rate or max(5.0, min(50.0, args.calls / 5))
    n = args.calls
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as t:
        tmp = Path(t)
        if args.hold:
            scen, duration = sipp.scenario(tmp / "p.xml", int(args.hold * 1000)), n / rate + args.hold
        else:
            sp = speech.make(tmp / "speech.wav")
            ulaw = speech.ulaw_file(sp.path, tmp / "speech.ulaw")
            scen, duration = sipp.scenario(tmp / "p.xml", int(args.seconds * 1000), ulaw), n / rate + args.seconds
        cfg = shipped_config(sip={"max_calls": max(500, 4 * n)}, asr={"enabled": args.asr})
        out = RESULTS / f"profile-{'on' if args.asr else 'off'}-{n}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        with server(cfg, rtp_ports=max(200, 4 * n + 20)) as h:
            rec = subprocess.Popen([spy, "record", "--pid", str(h.proc.pid), "--duration", str(int(duration)),
                                    "--rate", "100", "--format", "raw", "--nonblocking", "--threads",
                                    "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            run = sipp.run(f"127.0.0.1:{h.sip_port}", scen, n, rate, n, tmp / "sipp", timeout_s=duration + 60,
                           rtp_ports=0 if args.hold else 4 * n + 100)
            _, err = rec.communicate(timeout=duration + 60)
        print(f"sipp: rc {run.rc}, ok {run.successful}, failed {run.failed}; profile: {out}")
        if out.exists():
            print(top(out))
        else:
            print(err.decode(errors="replace")[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
