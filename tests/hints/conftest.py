"""Shared fixtures: the shipped knowledge base and rules loaded once, a fixed clock, profile builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from hints.context import Card, Document, HintContext, Interaction, OpenCase
from hints.engine import HintEngine
from hints.session import HintSession
from hints.settings import HintSettings

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    """A moment ``n`` days before :data:`NOW`."""
    return NOW - timedelta(days=n)


@pytest.fixture(scope="session")
def engine() -> HintEngine:
    """The shipped knowledge base and rules with default settings."""
    return HintEngine.load(HintSettings())


@pytest.fixture
def session(engine: HintEngine) -> HintSession:
    """A fresh call session on the fixed clock."""
    return engine.session(clock=lambda: NOW)


@pytest.fixture
def quiet_profile() -> HintContext:
    """A verified, ordinary customer: no proactive rule holds."""
    return HintContext("c-quiet", cards=(Card("4321", "active", date(2027, 5, 31)),),
                       documents=(Document("passport", None), Document("tax_id", date(2030, 1, 1))),
                       verification="verified")


@pytest.fixture
def busy_profile() -> HintContext:
    """A customer for whom every shipped rule holds."""
    return HintContext(
        "c-busy", flags=frozenset({"vip"}), verification="suspected_replay",
        cards=(Card("1111", "blocked", date(2027, 1, 31), "3 wrong PIN attempts"),
               Card("2222", "active", date(2025, 2, 28))),
        documents=(Document("passport", date(2024, 12, 1)),),
        open_cases=(OpenCase("CS-77", "card_delivery", days_ago(3), "Courier missed"),),
        interactions=(Interaction(days_ago(2), ("card_lost",), "call", "Card blocked as lost"),),
    )


def write_yaml(path: Path, doc: object) -> Path:
    """Dump ``doc`` as YAML to ``path`` (UTF-8, Cyrillic kept readable)."""
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


ArticleFactory = Callable[..., dict[str, object]]


@pytest.fixture
def article() -> ArticleFactory:
    """A valid article mapping; keyword arguments override fields."""
    def make(**over: object) -> dict[str, object]:
        doc: dict[str, object] = {
            "id": "card-lost", "language": "uk", "topic": "card_lost", "tags": ["cards"],
            "title": "Картку загублено", "answer": "Заблокуйте картку.", "body": "Кроки.",
            "link": "https://kb.example/cards/lost",
            "triggers": {"uk": ["загубив картку"], "ru": ["потерял карту"], "en": ["lost my card"]},
        }
        doc.update(over)
        return doc
    return make
