"""A fake Vosk model download: a small zip, a local HTTP server with Range support, and their fixtures.

Shared by the model registry tests (``tests/asr``) and the ``hotline models`` CLI tests (``tests/hotline``);
nothing here reaches the network.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from asr import registry
from asr.models import BASE_URL_ENV
from asr.registry import ArchiveModel

FAKE = "fake-model-for-tests-0.1"
SMALL_EN = "vosk-model-small-en-us-0.15"


@dataclass
class FakeModelArchive:
    """A zip shaped like a Vosk model download, and the member contents it holds."""

    data: bytes
    members: dict[str, bytes]
    sha256: str


def build_fake_model_archive(top: str | None = FAKE, with_model: bool = True) -> FakeModelArchive:
    """Build a small deterministic fake model zip (random, stored payload: ranges and CRCs matter)."""
    rnd = random.Random(1234)
    members = {"conf/model.conf": b"--sample-frequency=16000\n", "graph/HCLr.fst": rnd.randbytes(60_000)}
    if with_model:
        members["am/final.mdl"] = rnd.randbytes(300_000)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for rel, data in members.items():
            zf.writestr(f"{top}/{rel}" if top else rel, data)
    return FakeModelArchive(buf.getvalue(), members, hashlib.sha256(buf.getvalue()).hexdigest())


@dataclass
class FakeServer:
    """What the local server serves, what it saw, and how it misbehaves."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    cut_after: int | None = None  # cut the next response body after this many bytes
    honor_range: bool = True


class RangeHandler(BaseHTTPRequestHandler):
    """Serves ``fake.files`` with ``bytes=N-`` Range support and optionally cut connections."""

    fake: FakeServer  # set on a per-server subclass

    def do_GET(self) -> None:
        fake, rng = self.fake, self.headers.get("Range")
        fake.requests.append((self.path, rng))
        if (body := fake.files.get(self.path)) is None:
            return self.send_error(404)
        start = int(rng.removeprefix("bytes=").split("-")[0]) if rng and fake.honor_range else 0
        if start >= len(body) > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        cut, fake.cut_after = fake.cut_after, None
        self.wfile.write(body[start:] if cut is None else body[start : start + cut])
        self.close_connection = cut is not None  # the server then closes the socket mid-body

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (RangeHandler,), {"fake": fake}))
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def fake_model_archive() -> FakeModelArchive:
    return build_fake_model_archive()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch, server: FakeServer):
    """``serve(data, sha256)``: serve ``data`` and register test entry ``FAKE`` pointing at it."""

    def _serve(data: bytes, sha256: str | None) -> str:
        server.files[f"/{FAKE}.zip"] = data
        url = f"{server.url}/{FAKE}.zip"
        monkeypatch.setitem(registry.REGISTRY, FAKE, ArchiveModel(FAKE, "xx", "small", url, 1, sha256))
        return url

    return _serve


def assert_installed(path: Path, archive: FakeModelArchive) -> None:
    for rel, data in archive.members.items():
        assert (path / rel).read_bytes() == data, rel
