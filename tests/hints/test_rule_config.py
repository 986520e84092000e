"""Loading the proactive rules: the shipped file is complete; mistakes fail at load with file, rule and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hints.errors import RulesError
from hints.rule_config import FIELDS, load_rules, placeholders
from hints.settings import DEFAULT_RULES_FILE
from tests.hints.conftest import write_yaml


def rule(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": "vip", "when": "customer_flag", "flag": "vip", "title": "VIP", "text": "{flag}"}
    doc.update(over)
    return doc


def rules_error(tmp_path: Path, *rules: dict[str, Any]) -> RulesError:
    path = write_yaml(tmp_path / "hints.yaml", {"rules": list(rules)})
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert info.value.path == path and str(path) in str(info.value)
    return info.value


def test_shipped_rules_cover_every_condition() -> None:
    rules = load_rules(DEFAULT_RULES_FILE)
    assert {r.when for r in rules} == set(FIELDS)
    assert rules[0].id == "not_verified"  # shown first: verify before anything else
    assert next(r for r in rules if r.when == "customer_flag").flag == "vip"


def test_placeholders() -> None:
    assert placeholders("Card *{last4} until {expired:%m/%y}, {{literal}}") == {"last4", "expired"}
    with pytest.raises(ValueError, match="positional"):
        placeholders("{} and {0}")


def test_unknown_placeholder(tmp_path: Path) -> None:
    err = rules_error(tmp_path, rule(id="blocked", when="blocked_card", flag=None, text="Card {card_number}"))
    assert err.rule == "blocked"
    assert "unknown field(s) ['card_number']" in err.reason and "last4" in err.reason


def test_flag_required_for_customer_flag(tmp_path: Path) -> None:
    err = rules_error(tmp_path, rule(flag=None, text="VIP"))
    assert err.rule == "vip" and "'flag' is required" in err.reason


def test_flag_only_for_customer_flag(tmp_path: Path) -> None:
    err = rules_error(tmp_path, rule(when="open_case", text="{case_id}"))
    assert "'flag' is required for when: customer_flag and allowed only there" in err.reason


def test_window_days_only_for_repeat_contact(tmp_path: Path) -> None:
    err = rules_error(tmp_path, rule(window_days=3))
    assert "window_days" in err.reason


def test_unknown_condition(tmp_path: Path) -> None:
    err = rules_error(tmp_path, rule(when="birthday"))
    assert "rule #1 'vip' field when" in err.reason


def test_duplicate_ids(tmp_path: Path) -> None:
    err = rules_error(tmp_path, rule(), rule(title="again"))
    assert err.rule == "vip" and err.reason == "duplicate rule id"


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "hints.yaml"
    path.write_text("rules:\n  - id: [x\n", encoding="utf-8")
    with pytest.raises(RulesError, match="invalid YAML at line") as info:
        load_rules(path)
    assert info.value.path == path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read") as info:
        load_rules(tmp_path / "absent.yaml")
    assert info.value.path == tmp_path / "absent.yaml"


def test_disabled_rules_are_left_out(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "hints.yaml", {"rules": [rule(), rule(id="off", enabled=False)]})
    assert [r.id for r in load_rules(path)] == ["vip"]
