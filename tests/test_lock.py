"""The lock file: every dependency pinned, the pins within pyproject's ranges and above the known CVEs, and the
virtualenv `make` built holds exactly the locked versions."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CVE_FLOORS = {"python-multipart": "0.0.18", "starlette": "0.40", "h11": "0.16", "cryptography": "42.0.4"}


def _locked() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            assert pinned, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = Version(pinned)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in (*project["dependencies"], *extras["dev"], *extras["postgres"])]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    locked = _locked()
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in requirements.lock (run make lock)"
        assert req.specifier.contains(locked[name], prereleases=True), f"{req} but the lock has {locked[name]}"


def test_the_lock_is_above_the_known_cves() -> None:
    locked = _locked()
    for name, floor in CVE_FLOORS.items():
        assert locked[canonicalize_name(name)] >= Version(floor), f"{name} {locked[name]} < {floor}"


def test_the_virtualenv_holds_the_locked_versions() -> None:
    for name, pinned in _locked().items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            raise AssertionError(f"{name} is locked but not installed (make deps)") from None
        assert installed.public == pinned.public, f"{name}: installed {installed}, locked {pinned}"
