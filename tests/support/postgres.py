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


class PostgresCluster:
    """A running throwaway cluster that a test can stop (the database goes down) and start again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://hotline@127.0.0.1:{self.port}/hotline"

    def init(self) -> None:
        """initdb, start, createdb."""
        subprocess.run(_as_owner([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "hotline"]), check=True,
                       capture_output=True)
        self.start()
        subprocess.run([_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "hotline", "hotline"],
                       check=True, capture_output=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        opts = f"-p {self.port} -k {self.workdir} -h 127.0.0.1"
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                                  str(self.workdir / "pg.log"), "-w", "start"]), check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash: no clean shut-down of connections)."""
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       capture_output=True)


@contextmanager
def postgres_server() -> Iterator[PostgresCluster]:
    """Start a cluster in a fresh directory under /tmp with an empty database ``hotline``.

    (Not under pytest's tmp_path: as root, its parents are closed to the postgres user.)
    """
    workdir = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    cluster = PostgresCluster(workdir)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Like :func:`postgres_server`; yields only the SQLAlchemy URL."""
    with postgres_server() as cluster:
        yield cluster.url
