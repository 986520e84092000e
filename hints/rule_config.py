"""Proactive profile rules as configured in YAML: which condition, what the agent sees, validated on load.

A rule's ``title`` and ``text`` are ``str.format`` templates; the fields each condition offers are listed
in :data:`FIELDS` and checked when the file is loaded, so a typo fails at start-up, not mid-call.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hints.errors import RulesError
from hints.yamlfile import describe, first_item_id, read_yaml

Condition = Literal["not_verified", "suspected_replay", "customer_flag", "open_case", "expired_document",
                    "expired_card", "blocked_card", "repeat_contact"]

FIELDS: dict[str, frozenset[str]] = {
    "not_verified": frozenset({"decision"}),
    "suspected_replay": frozenset({"decision"}),
    "customer_flag": frozenset({"flag"}),
    "open_case": frozenset({"case_id", "topic", "topic_title", "opened", "days_open", "summary", "count"}),
    "expired_document": frozenset({"document", "expired", "count"}),
    "expired_card": frozenset({"last4", "expired", "count"}),
    "blocked_card": frozenset({"last4", "reason", "count"}),
    "repeat_contact": frozenset({"topic", "topic_title", "days_ago", "when", "channel", "summary", "count"}),
}


def placeholders(template: str) -> set[str]:
    """Field names a ``str.format`` template uses ("{last4}" -> "last4", "{when:%d.%m}" -> "when")."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"bad template {template!r}: {exc}") from exc
    names = set()
    for _, name, _, _ in parsed:
        if name is None:
            continue
        if not name or name.isdigit():
            raise ValueError(f"template {template!r} uses a positional field: name the field")
        names.add(name.split(".")[0].split("[")[0])
    return names


class RuleSpec(BaseModel):
    """One proactive rule.

    ``when`` picks the condition; ``flag`` names the customer flag for ``customer_flag``;
    ``window_days`` overrides the settings' repeat window for ``repeat_contact``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    when: Condition
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    link: str | None = None
    flag: str | None = None
    window_days: int | None = Field(None, ge=1)
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        if (self.when == "customer_flag") != (self.flag is not None):
            raise ValueError("'flag' is required for when: customer_flag and allowed only there")
        if self.window_days is not None and self.when != "repeat_contact":
            raise ValueError("'window_days' is allowed only for when: repeat_contact")
        allowed = FIELDS[self.when]
        for name in ("title", "text"):
            unknown = placeholders(getattr(self, name)) - allowed
            if unknown:
                raise ValueError(f"{name} uses unknown field(s) {sorted(unknown)}; "
                                 f"{self.when} offers {sorted(allowed)}")
        return self


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec] = Field(default_factory=list)


def load_rules(path: Path) -> tuple[RuleSpec, ...]:
    """The enabled rules of ``path`` in file order; :class:`RulesError` names the file, rule and reason."""
    raw = read_yaml(path, RulesError)
    try:
        rules = _RulesFile.model_validate(raw).rules
    except ValidationError as exc:
        raise RulesError(path, describe(exc, raw, "rules", "rule"), first_item_id(exc, raw, "rules")) from exc
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RulesError(path, "duplicate rule id", rule.id)
        seen.add(rule.id)
    return tuple(r for r in rules if r.enabled)
