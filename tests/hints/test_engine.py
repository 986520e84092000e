"""Loading the engine from settings, and the package's documented example."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import hints
from hints.engine import HintEngine
from hints.errors import KnowledgeBaseError, RulesError
from hints.settings import HintSettings
from tests.hints.conftest import ArticleFactory, write_yaml


def test_package_example() -> None:
    result = doctest.testmod(hints, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_load_from_custom_paths(tmp_path: Path, article: ArticleFactory) -> None:
    (tmp_path / "kb").mkdir()
    write_yaml(tmp_path / "kb" / "a.yaml", {"articles": [
        article(), article(id="fees", topic="fees", title="Комісії", triggers={"uk": ["яка комісія"]})]})
    write_yaml(tmp_path / "rules.yaml", {"rules": [{"id": "vip", "when": "customer_flag", "flag": "vip",
                                                    "title": "VIP", "text": "VIP"}]})
    engine = HintEngine.load(HintSettings(knowledge_dir=tmp_path / "kb", rules_file=tmp_path / "rules.yaml"))
    assert [a.id for a in engine.kb] == ["card-lost", "fees"] and [r.id for r in engine.rules] == ["vip"]
    assert engine.topic_titles == {"card_lost": "Картку загублено", "fees": "Комісії"}
    assert engine.session().on_final("загубив картку", "caller", "uk")[0].id == "kb:card-lost"


def test_load_errors_propagate(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError):
        HintEngine.load(HintSettings(knowledge_dir=tmp_path / "none"))
    with pytest.raises(RulesError):
        HintEngine.load(HintSettings(rules_file=tmp_path / "none.yaml"))
