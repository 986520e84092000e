"""Settings defaults and validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hints.settings import DEFAULT_KNOWLEDGE_DIR, DEFAULT_RULES_FILE, HintSettings


def test_defaults() -> None:
    s = HintSettings()
    assert s.knowledge_dir == DEFAULT_KNOWLEDGE_DIR and s.rules_file == DEFAULT_RULES_FILE
    assert DEFAULT_KNOWLEDGE_DIR.is_dir() and DEFAULT_RULES_FILE.is_file()
    assert (s.threshold, s.repeat_window_days, s.legs) == (0.5, 7, ("caller",))


@pytest.mark.parametrize("bad", [{"threshold": 1.5}, {"threshold": -0.1}, {"repeat_window_days": 0},
                                 {"legs": ("caller", " ")}, {"context_finals": 0}, {"confidence_scale": 0},
                                 {"reason_title": "{nope}"}, {"reason_title": "{0}"}])
def test_validation(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HintSettings.model_validate(bad)


def test_from_mapping_like_a_config_file() -> None:
    s = HintSettings.model_validate({"threshold": 0.7, "legs": ["caller", "agent"], "knowledge_dir": "/srv/kb"})
    assert s.threshold == 0.7 and s.legs == ("caller", "agent") and str(s.knowledge_dir) == "/srv/kb"
