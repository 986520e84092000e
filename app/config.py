"""The single settings model, composed from each package's settings.

Precedence (highest first): explicit overrides (CLI flags), environment
variables (``HOTLINE_SIP__PORT=5070``), the YAML file, built-in defaults.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from asr.settings import AsrSettings
from biometrics.settings import BiometricsSettings
from callcenter.settings import RoutingSettings
from console.settings import ConsoleSettings
from hints.settings import HintSettings
from media.settings import MediaSettings
from privacy.settings import PrivacySettings
from store.settings import StoreSettings
from voice.settings import SipSettings
from web.settings import HttpSettings
from webhooks.settings import WebhookSettings

BUNDLED_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "hotline.yaml"


class ConfigError(Exception):
    """The configuration file cannot be read."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"config {path}: {reason}")
        self.path = path
        self.reason = reason


class LogSettings(BaseModel):
    """Logging."""

    level: str = Field("INFO", description="Root log level.")
    json_format: bool = Field(False, alias="json", description="One JSON object per line instead of text.")

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class Settings(BaseSettings):
    """Everything Hotline can be told, in one model."""

    sip: SipSettings = Field(default_factory=SipSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    asr: AsrSettings = Field(default_factory=AsrSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    biometrics: BiometricsSettings = Field(default_factory=BiometricsSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    hints: HintSettings = Field(default_factory=HintSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    environment: Literal["dev", "prod"] = Field("dev", description="dev or prod.")

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_nested_delimiter="__", extra="forbid",
                                      hide_input_in_errors=True)  # a config error never prints a secret

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


_SECTIONS = ("sip", "media", "asr", "http", "store", "log", "biometrics", "routing", "hints", "privacy", "webhooks",
             "console")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path, exc.strerror or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, "top level must be a mapping")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_value(raw: str) -> Any:
    """JSON for lists, mappings and null (``HOTLINE_MEDIA__CODECS='["PCMU"]'``); plain strings otherwise."""
    text = raw.strip()
    if text[:1] in ("[", "{") or text == "null":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def _env_overrides() -> dict[str, Any]:
    """Nested dict from ``HOTLINE_SECTION__KEY=value`` and ``HOTLINE_TOPLEVEL=value`` variables."""
    out: dict[str, Any] = {}
    top_level = {name for name, f in Settings.model_fields.items() if name not in _SECTIONS}
    for name, value in os.environ.items():
        if not name.startswith("HOTLINE_"):
            continue
        path = name[len("HOTLINE_") :].lower().split("__")
        if len(path) == 1 and path[0] not in top_level:
            continue  # other HOTLINE_* variables (HOTLINE_CONFIG, secrets named by settings) are not settings
        if len(path) > 1 and path[0] not in _SECTIONS:
            continue
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _env_value(value)
    return out


def load_settings(config: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load settings from YAML (``config``, else ``$HOTLINE_CONFIG``, else the bundled file).

    Environment variables override the file; ``overrides`` (nested dict) override both.
    """
    path = config or (Path(os.environ["HOTLINE_CONFIG"]) if os.environ.get("HOTLINE_CONFIG") else None)
    if path is None and BUNDLED_CONFIG.exists():
        path = BUNDLED_CONFIG
    data = _read_yaml(path) if path is not None else {}
    data = _merge(data, _env_overrides())
    data = _merge(data, overrides or {})
    return Settings.model_validate(data)
