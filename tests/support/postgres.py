"""A throwaway PostgreSQL cluster for tests (Debian's postgresql binaries, loopback only)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.net import free_port


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"{name} not found: install Debian's postgresql (make test does)")
    return found


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the postgres user then."""
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
    return cmd


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster in a fresh directory under /tmp; yields a SQLAlchemy URL of an empty database.

    (Not under pytest's tmp_path: as root, its parents are closed to the postgres user.)
    """
    workdir = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    data, port = workdir / "pgdata", free_port()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    subprocess.run(_as_owner([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "hotline"]), check=True,
                   capture_output=True)
    opts = f"-p {port} -k {workdir} -h 127.0.0.1"
    subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(workdir / "pg.log"), "-w",
                              "start"]), check=True, capture_output=True)
    try:
        subprocess.run([_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hotline", "hotline"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://hotline@127.0.0.1:{port}/hotline"
    finally:
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
