"""Languages are configuration: any language code in the knowledge base gets an index, Korean included."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hints.engine import HintEngine
from hints.errors import KnowledgeBaseError
from hints.knowledge import load_knowledge
from hints.languages import language_code
from hints.lemmas import Lemmatizer, words
from hints.settings import HintSettings
from tests.hints.conftest import NOW, ArticleFactory, write_yaml

KO_CARD_LOST = {
    "id": "card-lost-ko", "language": "ko", "topic": "card_lost", "tags": ["cards"],
    "title": "카드 분실", "answer": "카드를 즉시 정지하세요.", "body": "앱에서 카드를 정지할 수 있습니다.",
    "triggers": {"ko": ["카드 분실", "안녕하세요"], "en": ["lost my card"]},
}


@pytest.fixture
def ko_dir(tmp_path: Path, article: ArticleFactory) -> Path:
    """A knowledge base with one Korean article and one uk/ru/en article."""
    write_yaml(tmp_path / "cards.yaml", {"articles": [
        KO_CARD_LOST,
        article(id="fraud", topic="fraud", title="Шахрайство", answer="Заблокуйте картку.", body="",
                triggers={"uk": ["шахрайство"], "ru": ["мошенничество"], "en": ["fraud"]}),
    ]})
    return tmp_path


def ko_engine(knowledge_dir: Path, **settings: object) -> HintEngine:
    return HintEngine.load(HintSettings(knowledge_dir=knowledge_dir, **settings))  # type: ignore[arg-type]


def test_korean_final_fires_the_korean_article(ko_dir: Path) -> None:
    session = ko_engine(ko_dir).session(clock=lambda: NOW)
    (hint,) = session.on_final("안녕하세요", "caller", "ko")
    assert (hint.id, hint.topic, hint.title) == ("kb:card-lost-ko", "card_lost", "카드 분실")
    assert hint.confidence >= 0.5 and "안녕하세요" in hint.why
    assert session.on_final("안녕하세요", "caller", "ko") == []  # never twice


def test_korean_phrase_and_regional_tag(ko_dir: Path) -> None:
    engine = ko_engine(ko_dir)
    assert [m.article.id for m in engine.matcher.match("카드 분실", "ko-KR")] == ["card-lost-ko"]
    assert [m.article.id for m in engine.matcher.match("lost my card", "en")] == ["card-lost-ko"]


@pytest.mark.parametrize("text", ["오늘 날씨가 정말 좋네요", "감사합니다", "카드"])
def test_unrelated_korean_stays_silent(ko_dir: Path, text: str) -> None:
    session = ko_engine(ko_dir).session(clock=lambda: NOW)
    assert session.on_final(text, "caller", "ko") == []


def test_matcher_indexes_the_languages_of_the_knowledge_base(ko_dir: Path) -> None:
    assert ko_engine(ko_dir).matcher.languages == ("ko", "en", "uk", "ru")


def test_hangul_never_reaches_pymorphy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(language: str) -> None:
        raise AssertionError(f"pymorphy3 asked for {language!r}")

    monkeypatch.setattr("hints.lemmas.analyzer", refuse)
    for lang in ("ko", "ru", "uk"):
        tokens = Lemmatizer().tokens("카드를 분실했어요", lang)
        assert [(t.word, set(t.lemmas)) for t in tokens] == [("카드를", {"카드를"}), ("분실했어요", {"분실했어요"})]


@pytest.mark.parametrize(("text", "expected"), [
    ("안녕하세요, 카드-분실!", ["안녕하세요", "카드", "분실"]),
    ("Καλημέρα ΚΑΡΤΑ", ["καλημέρα", "καρτα"]),
    ("مرحبا بطاقة", ["مرحبا", "بطاقة"]),
    ("नमस्ते कार्ड", ["नमस्ते", "कार्ड"]),  # vowel signs are combining marks: the words stay whole
    ("你好 カード", ["你好", "カード"]),
    ("\u1112\u1161\u11ab\u1100\u116e\u11a8", ["한국"]),  # decomposed jamo compose to syllables (NFC)
    ("и\u0306ого", ["його"]),  # decomposed Cyrillic short i composes too
])
def test_words_of_other_scripts(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_other_scripts_are_case_folded_surface_forms() -> None:
    (token,) = Lemmatizer().tokens("ΚΑΡΤΑΣ", "el")
    assert token.word == "καρτας" and token.lemmas == {"καρτασ"}


def test_unknown_languages_have_no_stop_words_unless_configured() -> None:
    assert [t.word for t in Lemmatizer().tokens("네 카드 분실", "ko")] == ["네", "카드", "분실"]
    configured = Lemmatizer(stopwords={"ko": ["네", "감사합니다"]})
    assert [t.word for t in configured.tokens("네 카드 분실 감사합니다", "ko-KR")] == ["카드", "분실"]
    assert [t.word for t in configured.tokens("네 카드", "ja")] == ["네", "카드"]  # per language
    assert configured.stopwords("ko") == {"네", "감사합니다"}


def test_configured_stop_words_extend_the_built_in_ones() -> None:
    lem = Lemmatizer(stopwords={"uk": ["картка"], "en": ["card"]})
    assert lem.tokens("загубив картку", "uk")[0].word == "загубив" and len(lem.tokens("загубив картку", "uk")) == 1
    assert [t.word for t in lem.tokens("lost card", "en")] == ["lost"]
    assert len(Lemmatizer().tokens("загубив картку", "uk")) == 2


def test_settings_stop_words_reach_the_engine(ko_dir: Path) -> None:
    engine = ko_engine(ko_dir, stopwords={"ko": ["네", "여보세요"]})
    assert [t.word for t in engine.lemmatizer.tokens("여보세요 네 카드 분실", "ko")] == ["카드", "분실"]
    (match,) = engine.matcher.match("여보세요 네 카드 분실", "ko")
    assert match.article.id == "card-lost-ko" and match.matched == (("카드", "카드"), ("분실", "분실"))


def test_trigger_of_only_configured_stop_words_is_rejected(ko_dir: Path) -> None:
    with pytest.raises(KnowledgeBaseError) as info:
        ko_engine(ko_dir, stopwords={"ko": ["카드", "분실"]})
    assert "'카드 분실' has only stop words" in info.value.reason and "card-lost-ko" in info.value.reason


def test_settings_languages_limit_what_is_loaded(ko_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hints.lemmas.analyzer", lambda language: pytest.fail(f"pymorphy3 for {language}"))
    engine = ko_engine(ko_dir, languages=["ko"])
    assert engine.matcher.languages == ("ko",)
    assert [a.id for a in engine.kb] == ["card-lost-ko"]  # fraud has no Korean triggers: dropped
    assert list(engine.kb.articles[0].triggers) == ["ko"]
    assert engine.matcher.match("lost my card", "en") == []
    assert [m.article.id for m in engine.matcher.match("안녕하세요", "ko")] == ["card-lost-ko"]


def test_article_in_an_unloaded_language_keeps_its_other_triggers(ko_dir: Path) -> None:
    kb = load_knowledge(ko_dir, ["en"])
    assert [a.id for a in kb] == ["card-lost-ko", "fraud"]
    ko = kb.articles[0]
    assert ko.language == "ko" and list(ko.triggers) == ["en"] and ko.title == "카드 분실"
    assert kb.sources == {"card-lost-ko": ko_dir / "cards.yaml", "fraud": ko_dir / "cards.yaml"}


def test_configured_language_missing_from_the_knowledge_base(ko_dir: Path) -> None:
    with pytest.raises(KnowledgeBaseError) as info:
        ko_engine(ko_dir, languages=["ko", "ja"])
    assert info.value.path == ko_dir and "'ja'" in info.value.reason and "'ko'" in info.value.reason


@pytest.mark.parametrize("languages", [[], ["k"], ["KO"], ["ko-KR"], [True]])
def test_settings_languages_are_validated(languages: list[object]) -> None:
    with pytest.raises(ValidationError):
        HintSettings.model_validate({"languages": languages})


def test_settings_stop_word_languages_are_validated() -> None:
    with pytest.raises(ValidationError, match="not a language code"):
        HintSettings.model_validate({"stopwords": {"k": ["네"]}})


def test_settings_languages_default_to_all() -> None:
    assert HintSettings().languages is None and HintSettings().stopwords == {}
    s = HintSettings.model_validate({"languages": ["uk", "ko", "fil"]})
    assert s.languages == ["uk", "ko", "fil"]


@pytest.mark.parametrize("code", ["uk", "ko", "fil"])
def test_language_code_accepts(code: str) -> None:
    assert language_code(code) == code


def test_shipped_languages_unchanged_when_listed(engine: HintEngine) -> None:
    listed = HintEngine.load(HintSettings(languages=["uk", "ru", "en"]))
    assert listed.kb.articles == engine.kb.articles and listed.matcher.languages == engine.matcher.languages
    for text, lang in [("я загубив картку", "uk"), ("забыл пин код", "ru"), ("i lost my card", "en")]:
        assert [m.article.id for m in listed.matcher.match(text, lang)] == \
            [m.article.id for m in engine.matcher.match(text, lang)]
