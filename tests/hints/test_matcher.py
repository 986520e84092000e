"""Matching caller speech to articles across word forms, with a threshold that keeps unrelated speech quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from hints.engine import HintEngine
from hints.errors import KnowledgeBaseError
from hints.knowledge import load_knowledge
from hints.lemmas import Lemmatizer
from hints.matcher import KnowledgeMatcher
from hints.settings import HintSettings
from tests.hints.conftest import ArticleFactory, write_yaml

LOST_UK = ["я загубив картку", "картку загублено", "втратила картки", "загубила свою картку вчора",
           "у мене загублена картка", "я втратив картку в магазині", "вкрали картку", "мою картку вкрали"]
LOST_RU = ["потерял карту", "карта потеряна", "потеряла карточку", "я потеряла свою карту",
           "у меня украли карту", "мою карточку украли", "кажется потерял карточку"]
LOST_EN = ["i lost my card", "my card was stolen", "someone stole my card yesterday", "i think i lost my cards"]

TOPICAL = [
    ("uk", "моя картка заблокована", "card-blocked"),
    ("uk", "чому заблокували мою картку", "card-blocked"),
    ("uk", "хочу збільшити ліміт на зняття готівки", "card-limit"),
    ("uk", "я забула пін код", "pin-reset"),
    ("uk", "відправив гроші мамі а вони досі не прийшли", "transfer-missing"),
    ("uk", "чому з мене зняли комісію", "fees"),
    ("uk", "як достроково погасити кредит", "loan-payment"),
    ("uk", "я переїхала і хочу змінити адресу", "address-change"),
    ("uk", "не можу зайти в застосунок", "app-login"),
    ("uk", "мені дзвонили шахраї", "fraud"),
    ("uk", "потрібна виписка для візи", "statement"),
    ("uk", "коли привезуть мою нову картку", "card-delivery"),
    ("uk", "який курс долара", "currency-exchange"),
    ("ru", "карту заблокировали", "card-blocked"),
    ("ru", "забыл пин код", "pin-reset"),
    ("ru", "деньги не пришли на карту", "transfer-missing"),
    ("ru", "не могу войти в приложение", "app-login"),
    ("ru", "хочу погасить кредит", "loan-payment"),
    ("ru", "нужна выписка по счету", "statement"),
    ("ru", "хочу обменять валюту", "currency-exchange"),
    ("en", "i forgot my pin", "pin-reset"),
    ("en", "the transfer has not arrived", "transfer-missing"),
    ("en", "why was i charged a fee", "fees"),
    ("en", "i can't log into the app", "app-login"),
    ("en", "there is a suspicious transaction", "fraud"),
]

UNRELATED = [
    ("uk", "добрий день як справи"), ("uk", "яка сьогодні погода"), ("uk", "дякую до побачення"),
    ("uk", "я хочу замовити піцу"), ("uk", "я розрахувався карткою в магазині"),
    ("uk", "у мене питання щодо рахунку"), ("uk", "так так зрозуміло чекаю"),
    ("uk", "мене звати олена я з києва"), ("uk", "алло ви мене чуєте"),
    ("ru", "какая погода завтра в киеве"), ("ru", "здравствуйте меня зовут иван"),
    ("ru", "спасибо всё понятно"), ("ru", "я оплатил картой в магазине"), ("ru", "подождите минуточку"),
    ("en", "hello my name is john"), ("en", "what's the weather like"), ("en", "i paid with my card at the shop"),
    ("en", "could you repeat that please"),
]


def top(engine: HintEngine, text: str, lang: str) -> str | None:
    hits = engine.matcher.match(text, lang)
    return hits[0].article.id if hits else None


@pytest.mark.parametrize("text", LOST_UK)
def test_lost_card_ukrainian_forms(engine: HintEngine, text: str) -> None:
    assert top(engine, text, "uk") == "card-lost"


@pytest.mark.parametrize("text", LOST_RU)
def test_lost_card_russian_forms(engine: HintEngine, text: str) -> None:
    assert top(engine, text, "ru") == "card-lost"


@pytest.mark.parametrize("text", LOST_EN)
def test_lost_card_english_forms(engine: HintEngine, text: str) -> None:
    assert top(engine, text, "en") == "card-lost"


@pytest.mark.parametrize(("lang", "text", "article_id"), TOPICAL)
def test_each_topic(engine: HintEngine, lang: str, text: str, article_id: str) -> None:
    assert top(engine, text, lang) == article_id


@pytest.mark.parametrize(("lang", "text"), UNRELATED)
def test_unrelated_speech_fires_nothing(engine: HintEngine, lang: str, text: str) -> None:
    assert engine.matcher.match(text, lang) == []


def test_why_names_the_words_and_trigger(engine: HintEngine) -> None:
    (hit,) = engine.matcher.match("картку загублено", "uk")
    assert ("загублено", "загубити") in hit.matched and ("картку", "картка") in hit.matched
    assert "загублено (загубити)" in hit.why and "trigger" in hit.why
    assert hit.coverage == 1.0 and 0.5 <= hit.confidence <= 1.0


def test_threshold_is_configurable(engine: HintEngine) -> None:
    assert engine.matcher.match("я загубив картку", "uk", threshold=0.999) == []
    weak = engine.matcher.match("я хочу замовити піцу", "uk", threshold=0.0)
    assert weak and all(m.coverage < 1 for m in weak)  # shown only because the floor is 0
    assert engine.matcher.match("я хочу замовити піцу", "uk") == []


def test_some_trigger_word_is_required(engine: HintEngine) -> None:
    # words of an article's body alone never fire it, however low the threshold
    ranked = engine.matcher.rank(engine.lemmatizer.tokens("кур'єр телефонує за день", "uk"), "uk")
    assert any(m.article.id == "card-delivery" for m in ranked)
    body_only = [m for m in ranked if m.coverage == 0]
    assert body_only
    fired = {m.article.id for m in engine.matcher.match("телефонує за день", "uk", threshold=0.0)}
    assert not fired & {m.article.id for m in body_only}


def test_unknown_language_has_no_index(engine: HintEngine) -> None:
    assert engine.matcher.match("я загубив картку", "ko") == []
    assert set(engine.matcher.languages) == {"uk", "ru", "en"}


def test_regional_language_tags(engine: HintEngine) -> None:
    assert top(engine, "я загубив картку", "uk-UA") == "card-lost"


def test_title_and_body_count_only_in_article_language(tmp_path: Path, article: ArticleFactory) -> None:
    write_yaml(tmp_path / "kb.yaml", {"articles": [
        article(id="en-only", language="en", title="Overdraft", answer="Overdraft rules.", body="",
                triggers={"en": ["overdraft"], "uk": ["овердрафт"]}),
        article(id="other", topic="other", title="Інше", triggers={"uk": ["інша тема"], "en": ["other topic"]}),
    ]})
    matcher = KnowledgeMatcher(load_knowledge(tmp_path), Lemmatizer(), HintSettings())
    en = matcher.rank(matcher.lemmatizer.tokens("overdraft", "en"), "en")[0]
    uk = matcher.rank(matcher.lemmatizer.tokens("овердрафт", "uk"), "uk")[0]
    assert en.article.id == uk.article.id == "en-only"
    assert en.score > uk.score  # the English title adds to the English match only


def test_trigger_of_only_stop_words_is_rejected(tmp_path: Path, article: ArticleFactory) -> None:
    path = write_yaml(tmp_path / "kb.yaml", {"articles": [article(triggers={"uk": ["загубив картку", "я не можу"]})]})
    with pytest.raises(KnowledgeBaseError) as info:
        KnowledgeMatcher(load_knowledge(tmp_path), Lemmatizer(), HintSettings())
    assert info.value.path == path and "'я не можу'" in info.value.reason and "card-lost" in info.value.reason


def test_runner_up_needs_a_comparable_score(engine: HintEngine) -> None:
    text = "мені дзвонили шахраї і списали гроші"
    ids = [m.article.id for m in engine.matcher.match(text, "uk")]
    assert ids == ["fraud"]
    loose = HintEngine(engine.settings.model_copy(update={"runner_up_ratio": 0.0}), engine.kb, engine.rules,
                       engine.lemmatizer)
    assert [m.article.id for m in loose.matcher.match(text, "uk")][:2] == ["fraud", "fees"]
