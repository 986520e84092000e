"""Loading the knowledge base: the shipped articles are complete; malformed files fail with file and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hints.errors import KnowledgeBaseError
from hints.knowledge import LANGUAGES, load_knowledge
from hints.settings import DEFAULT_KNOWLEDGE_DIR
from tests.hints.conftest import ArticleFactory, write_yaml

TOPICS = {"card_lost", "card_blocked", "card_limit", "pin_reset", "transfer_missing", "fees", "loan_payment",
          "address_change", "app_login", "fraud", "statement", "card_delivery", "currency_exchange"}


def test_shipped_knowledge_base_is_complete() -> None:
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    assert len(kb) >= 12
    assert kb.topics == TOPICS
    for a in kb:
        assert set(a.triggers) == set(LANGUAGES), a.id
        assert all(len(a.triggers[lang]) >= 3 for lang in LANGUAGES), a.id
        assert a.title and a.answer and a.body and a.link, a.id
        assert kb.sources[a.id].parent == DEFAULT_KNOWLEDGE_DIR
    assert kb.get("card-lost") is not None and kb.get("nope") is None
    assert kb.by_topic("fraud") is not None and kb.by_topic("weather") is None


def test_loads_every_yaml_file_in_name_order(tmp_path: Path, article: ArticleFactory) -> None:
    write_yaml(tmp_path / "b.yml", {"articles": [article(id="second", topic="b")]})
    write_yaml(tmp_path / "a.yaml", {"articles": [article(id="first", topic="a")]})
    (tmp_path / "notes.txt").write_text("not loaded")
    kb = load_knowledge(tmp_path)
    assert [a.id for a in kb] == ["first", "second"]
    assert kb.sources == {"first": tmp_path / "a.yaml", "second": tmp_path / "b.yml"}


def load_error(tmp_path: Path, doc: object | None = None, text: str | None = None) -> KnowledgeBaseError:
    path = tmp_path / "cards.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        write_yaml(path, doc)
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge(tmp_path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    return info.value


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge(tmp_path / "absent")
    assert info.value.path == tmp_path / "absent" and info.value.reason == "not a directory"


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"no \*\.yaml") as info:
        load_knowledge(tmp_path)
    assert info.value.path == tmp_path


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, text="articles:\n  - id: x\n    title: [unclosed\n")
    assert "invalid YAML" in err.reason and "line" in err.reason


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    err = load_error(tmp_path, ["just", "a", "list"])
    assert "mapping" in err.reason and "list" in err.reason


def test_missing_field_names_article_and_field(tmp_path: Path, article: ArticleFactory) -> None:
    doc = article()
    del doc["answer"]
    err = load_error(tmp_path, {"articles": [article(id="ok"), doc]})
    assert "article #2 'card-lost' field answer" in err.reason and "required" in err.reason.lower()


@pytest.mark.parametrize("code", ["k", "DE", "uk-UA", "deutsch", ""])
def test_malformed_language(tmp_path: Path, article: ArticleFactory, code: str) -> None:
    err = load_error(tmp_path, {"articles": [article(language=code, triggers={"uk": ["картка"]})]})
    assert "field language" in err.reason and f"language {code!r} is not a language code" in err.reason


def test_malformed_trigger_language(tmp_path: Path, article: ArticleFactory) -> None:
    err = load_error(tmp_path, {"articles": [article(triggers={"uk": ["картка"], "k": ["카드"]})]})
    assert "article #1 'card-lost' field triggers.k" in err.reason
    assert "'k' is not a language code" in err.reason and "2 or 3 lowercase letters" in err.reason


def test_unquoted_yaml_boolean_language(tmp_path: Path) -> None:
    text = ("articles:\n- {id: a, language: uk, topic: a, title: T, answer: A,\n"
            "   triggers: {uk: [картка], no: [kort]}}\n")
    err = load_error(tmp_path, text=text)
    assert "read as the boolean False" in err.reason and "quote it" in err.reason


def test_any_language_code_is_accepted(tmp_path: Path, article: ArticleFactory) -> None:
    write_yaml(tmp_path / "kb.yaml", {"articles": [
        article(language="de", title="Karte verloren", triggers={"de": ["Karte verloren"], "pl": ["zgubiłem kartę"],
                                                                  "ko": ["카드 분실"], "fil": ["nawala ang card"]}),
    ]})
    (a,) = load_knowledge(tmp_path)
    assert a.language == "de" and list(a.triggers) == ["de", "pl", "ko", "fil"]


def test_triggers_must_cover_the_article_language(tmp_path: Path, article: ArticleFactory) -> None:
    err = load_error(tmp_path, {"articles": [article(triggers={"ru": ["потерял карту"]})]})
    assert "own language 'uk'" in err.reason


def test_blank_trigger(tmp_path: Path, article: ArticleFactory) -> None:
    err = load_error(tmp_path, {"articles": [article(triggers={"uk": ["загубив картку", "  "]})]})
    assert "blank trigger phrase at uk[1]" in err.reason


def test_unknown_field_is_rejected(tmp_path: Path, article: ArticleFactory) -> None:
    err = load_error(tmp_path, {"articles": [article(summary="typo of answer")]})
    assert "field summary" in err.reason


def test_bad_id(tmp_path: Path, article: ArticleFactory) -> None:
    err = load_error(tmp_path, {"articles": [article(id="Card Lost")]})
    assert "field id" in err.reason


def test_no_articles(tmp_path: Path) -> None:
    err = load_error(tmp_path, {"articles": []})
    assert "articles" in err.reason


def test_duplicate_id_across_files(tmp_path: Path, article: ArticleFactory) -> None:
    write_yaml(tmp_path / "a.yaml", {"articles": [article()]})
    write_yaml(tmp_path / "b.yaml", {"articles": [article(title="Другий")]})
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge(tmp_path)
    assert info.value.path == tmp_path / "b.yaml"
    assert "duplicate article id 'card-lost'" in info.value.reason and "a.yaml" in info.value.reason


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.yaml"
    path.write_bytes("articles: картка".encode("cp1251"))
    with pytest.raises(KnowledgeBaseError, match="not UTF-8") as info:
        load_knowledge(tmp_path)
    assert info.value.path == path
