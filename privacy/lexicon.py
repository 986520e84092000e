# ruff: noqa: RUF001  (Cyrillic words that look like Latin letters are meant)
"""Spoken-number and spoken-email vocabulary of the transcript languages (Ukrainian, Russian, English).

Words are stored normalized: lowercase, with the ASCII apostrophe (``п'ять``). Ukrainian and Russian
are always active together (bilingual callers and surzhyk are common); English only for ``en`` or when
the language is not known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto
from functools import lru_cache


class Role(Enum):
    """What a number word does in a spoken digit sequence."""

    UNIT = auto()  # 0-9
    TEEN = auto()  # 10-19
    TENS = auto()  # 20, 30, ... 90
    HUNDREDS = auto()  # 100, 200, ... 900 in one word (Slavic)
    HUNDRED = auto()  # English "hundred": multiplies the unit before it
    REPEAT = auto()  # English "double"/"triple": repeats the digit after it
    AND = auto()  # English "and" after "hundred"
    FILLER = auto()  # hesitation inside a dictated sequence
    PLUS = auto()  # spoken "+" before a phone number


@dataclass(frozen=True, slots=True)
class Word:
    """A vocabulary entry."""

    role: Role
    value: int = 0


def _entries(role: Role, words: str, start: int = 0, step: int = 1) -> dict[str, Word]:
    """Space-separated ``words`` valued start, start+step, ...; ``|`` separates spellings of one value."""
    out: dict[str, Word] = {}
    for i, variants in enumerate(words.split()):
        for word in variants.split("|"):
            out[word] = Word(role, start + i * step)
    return out


_UK = {
    **_entries(Role.UNIT, "нуль один|одна|одне два|дві три чотири п'ять шість сім вісім дев'ять"),
    **_entries(Role.TEEN, "десять одинадцять дванадцять тринадцять чотирнадцять п'ятнадцять шістнадцять "
                          "сімнадцять вісімнадцять дев'ятнадцять", 10),
    **_entries(Role.TENS, "двадцять тридцять сорок п'ятдесят шістдесят сімдесят вісімдесят дев'яносто", 20, 10),
    **_entries(Role.HUNDREDS, "сто двісті триста чотириста п'ятсот шістсот сімсот вісімсот дев'ятсот", 100, 100),
    **_entries(Role.FILLER, "е|ее|ем|мм|ну"),
    "плюс": Word(Role.PLUS),
}
_RU = {
    **_entries(Role.UNIT, "ноль|нуль один|одна|одно два|две три четыре пять шесть семь восемь девять"),
    **_entries(Role.TEEN, "десять одиннадцать двенадцать тринадцать четырнадцать пятнадцать шестнадцать "
                          "семнадцать восемнадцать девятнадцать", 10),
    **_entries(Role.TENS, "двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто", 20, 10),
    **_entries(Role.HUNDREDS, "сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот", 100, 100),
    **_entries(Role.FILLER, "э|ээ|эм|мм|ну"),
    "плюс": Word(Role.PLUS),
}
_EN = {
    **_entries(Role.UNIT, "zero|oh|nought one two three four five six seven eight nine"),
    **_entries(Role.TEEN, "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen", 10),
    **_entries(Role.TENS, "twenty thirty forty fifty sixty seventy eighty ninety", 20, 10),
    "hundred": Word(Role.HUNDRED, 100),
    "double": Word(Role.REPEAT, 2),
    "triple": Word(Role.REPEAT, 3),
    "and": Word(Role.AND),
    **_entries(Role.FILLER, "uh|um|er|erm|hmm"),
    "plus": Word(Role.PLUS),
}

# Spoken e-mail parts (all languages at once: these words only count inside the e-mail pattern).
EMAIL_AT = frozenset({"at", "собака", "собачка", "равлик"})
EMAIL_DOT = frozenset({"dot", "крапка", "точка"})
EMAIL_JOIN = frozenset({"underscore", "hyphen", "dash", "підкреслення", "подчеркивание", "дефіс", "дефис", "тире"})
EMAIL_TLDS = frozenset({
    "com", "ком", "net", "нет", "org", "орг", "ua", "уа", "юа", "ru", "ру", "info", "інфо", "инфо", "io",
    "eu", "de", "uk", "edu", "gov", "biz", "укр", "рф",
})
# Spoken country code of a Ukrainian IBAN: one word, or two letter names.
IBAN_UA_ONE = frozenset({"ua", "уа", "юа", "юей"})
IBAN_UA_FIRST = frozenset({"u", "у", "ю", "you"})
IBAN_UA_SECOND = frozenset({"a", "а", "ей", "эй", "ay"})

_ALIASES = {"ua": "uk", "ukr": "uk", "rus": "ru", "eng": "en"}


@lru_cache(maxsize=16)
def lexicon_for(language: str | None) -> Mapping[str, Word]:
    """Number words for a language tag (``uk``, ``ru-RU``, ``en-us``); every language when unknown or None."""
    tag = (language or "").lower().replace("_", "-").split("-")[0]
    tag = _ALIASES.get(tag, tag)
    if tag in ("uk", "ru"):
        return {**_UK, **_RU}
    if tag == "en":
        return dict(_EN)
    return {**_UK, **_RU, **_EN}
