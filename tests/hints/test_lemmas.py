"""Tokenizing and lemmatizing: word forms fold together, stop words drop out, typography is normalised."""

from __future__ import annotations

import pytest

from hints.lemmas import Lemmatizer, base_language, words


@pytest.fixture(scope="module")
def lem() -> Lemmatizer:
    return Lemmatizer()


def lemma_sets(lem: Lemmatizer, text: str, lang: str) -> list[frozenset[str]]:
    return [t.lemmas for t in lem.tokens(text, lang)]


def test_words_lowercase_split_hyphens_keep_apostrophes() -> None:
    assert words("Пін-код, ЗВ’ЯЗОК! 42 can't") == ["пін", "код", "зв'язок", "can't"]


@pytest.mark.parametrize(("tag", "base"), [("uk-UA", "uk"), ("ru_RU", "ru"), ("EN", "en"), ("ko", "ko")])
def test_base_language(tag: str, base: str) -> None:
    assert base_language(tag) == base


@pytest.mark.parametrize(("lang", "forms", "lemma"), [
    ("uk", ["картка", "картку", "картки", "карткою", "картці", "карток"], "картка"),
    ("uk", ["загубив", "загубила", "загубили", "загубити", "загублено"], "загубити"),
    ("ru", ["карта", "карту", "карты", "картой", "карте"], "карта"),
    ("ru", ["потерял", "потеряла", "потеряли", "потерять", "потеряна"], "потерять"),
    ("en", ["card", "cards"], "card"),
])
def test_forms_share_a_lemma(lem: Lemmatizer, lang: str, forms: list[str], lemma: str) -> None:
    for form in forms:
        tokens = lem.tokens(form, lang)
        assert len(tokens) == 1 and lemma in tokens[0].lemmas, (form, tokens)


@pytest.mark.parametrize(("lang", "text"), [
    ("uk", "я мені у нас і не так добрий день дякую"),
    ("ru", "я мне у нас и не так добрый день спасибо"),
    ("en", "i am not here and it is okay thanks"),
])
def test_stop_words_drop_out(lem: Lemmatizer, lang: str, text: str) -> None:
    assert lem.tokens(text, lang) == []


def test_yo_folds_to_ie(lem: Lemmatizer) -> None:
    assert lemma_sets(lem, "платёж", "ru") == lemma_sets(lem, "платеж", "ru")
    assert all("ё" not in lemma for s in lemma_sets(lem, "платёж", "ru") for lemma in s)


def test_typographic_apostrophe_is_the_ascii_one(lem: Lemmatizer) -> None:
    assert lemma_sets(lem, "зв’язку", "uk") == lemma_sets(lem, "зв'язку", "uk")
    assert "зв'язок" in lemma_sets(lem, "зв’язку", "uk")[0]


def test_latin_words_take_the_english_path_in_any_call(lem: Lemmatizer) -> None:
    assert lemma_sets(lem, "cards", "uk") == [frozenset({"card"})]


def test_script_letters_pick_the_dictionary(lem: Lemmatizer) -> None:
    # a Ukrainian word in a Russian call still gets its Ukrainian lemma (і is not a Russian letter)
    assert "картка" in lemma_sets(lem, "картці", "ru")[0]


def test_unknown_word_keeps_its_surface_form(lem: Lemmatizer) -> None:
    (token,) = lem.tokens("приватбанкінг", "uk")
    assert "приватбанкінг" in token.lemmas


def test_cache_returns_same_tokens_and_can_be_cleared(lem: Lemmatizer) -> None:
    first = lem.tokens("загубив картку", "uk")
    assert lem.tokens("загубив картку", "uk") == first
    lem.cache_clear()
    assert lem.tokens("загубив картку", "uk") == first
