"""Errors raised by the hint engine. Each one carries its data as attributes."""

from __future__ import annotations

from pathlib import Path


class HintsError(Exception):
    """Base class of every hint engine error."""


class KnowledgeBaseError(HintsError):
    """A knowledge-base file (or the directory) cannot be read or is malformed.

    ``path`` is the file (or directory) at fault, ``reason`` says what is wrong in words a person
    editing the YAML can act on (it names the article id and field where one is known).
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"knowledge base {path}: {reason}")
        self.path = path
        self.reason = reason


class RulesError(HintsError):
    """The proactive rules file cannot be read or is malformed (``rule`` is the rule id, if known)."""

    def __init__(self, path: Path, reason: str, rule: str | None = None) -> None:
        where = f"{path} (rule {rule!r})" if rule else str(path)
        super().__init__(f"hint rules {where}: {reason}")
        self.path = path
        self.reason = reason
        self.rule = rule


class ContextError(HintsError):
    """A customer profile handed to the engine is unusable (for example a naive datetime)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"hint context field {field} = {value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class LemmatizerError(HintsError):
    """The morphology dictionaries of a language cannot be loaded (pymorphy3 or its dictionary missing)."""

    def __init__(self, language: str, reason: str) -> None:
        super().__init__(f"lemmatizer for {language!r} unavailable: {reason} (install pymorphy3 and "
                         f"pymorphy3-dicts-{language})")
        self.language = language
        self.reason = reason
