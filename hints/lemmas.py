"""Words to lemma keys: pymorphy3 for Ukrainian and Russian, a light stemmer for English, the word itself
for every other script.

Vosk gives lowercase words without punctuation; typed text (knowledge base, tests) may have capitals,
hyphens and typographic apostrophes, so everything goes through the same tokenizer. A token keeps every
lemma its dictionary offers (``пін`` -> {піна, піни}, ``код`` -> {код, кода}): the index stores them all
and a query token matches through whichever lemma scores best, so ambiguity never loses a match.

The script of a word picks the analysis, whatever the call's language: Latin words go to the English
stemmer, Cyrillic words to the pymorphy3 dictionary of uk or ru. A word in any other script (Hangul, CJK,
Greek, Arabic, Devanagari...) is its own key, case-folded. Built-in stop words exist for uk, ru and en only.
Other languages drop only the stop words configured for them (``HintSettings.stopwords``).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hints.english import stem
from hints.errors import LemmatizerError
from hints.stopwords import STOPWORDS

_LETTER = r"[^\W\d_]"  # any Unicode letter: Latin, Cyrillic, Hangul, CJK, Greek, Arabic...
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'"})  # typographic -> ASCII
_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
_UK_ONLY = frozenset("іїєґ")
_RU_ONLY = frozenset("ыэъё")
_YO, _YE = "\u0451", "\u0435"  # Cyrillic yo folds to ie: Vosk and callers' spelling vary
CYRILLIC_LANGUAGES = ("uk", "ru")


def base_language(language: str) -> str:
    """"uk-UA" / "ru_RU" / "EN" -> "uk" / "ru" / "en"."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    """A word: a letter, then letters and combining marks, with inner apostrophes.

    Marks matter for scripts whose vowel signs are marks (Devanagari, Thai...): without them a word
    would break at every vowel. The mark table is read from ``unicodedata`` once (about 50 ms). Only
    planes 0-1 and the variation selectors supplement are scanned, which is where all marks are.
    """
    marks: list[str] = []
    start = prev = -2
    for cp in (*range(0x20000), *range(0xE0100, min(0xE01F0, sys.maxunicode + 1))):
        if unicodedata.category(chr(cp))[0] != "M":
            continue
        if cp != prev + 1:
            if start >= 0:
                marks.append(_span(start, prev))
            start = cp
        prev = cp
    if start >= 0:
        marks.append(_span(start, prev))
    inner = f"(?:{_LETTER}|[{''.join(marks)}])*"
    return re.compile(f"{_LETTER}{inner}(?:'{_LETTER}{inner})*")


def _span(first: int, last: int) -> str:
    return re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}"


def words(text: str) -> list[str]:
    """Lowercase words of ``text`` (NFC-composed; hyphens split words, inner apostrophes stay)."""
    return _word_pattern().findall(unicodedata.normalize("NFC", text).lower().translate(_APOSTROPHES))


@functools.cache
def analyzer(language: str) -> Any:
    """The shared pymorphy3 analyzer of a language (loaded once per process, about 0.1 s)."""
    try:
        import pymorphy3
    except ImportError as exc:
        raise LemmatizerError(language, "pymorphy3 is not installed") from exc
    try:
        return pymorphy3.MorphAnalyzer(lang=language)
    except (ValueError, OSError, ImportError, KeyError) as exc:
        raise LemmatizerError(language, str(exc)) from exc


@dataclass(frozen=True)
class Token:
    """A content word: its surface form and every lemma key it may stand for."""

    word: str
    lemmas: frozenset[str]


def _cyrillic_language(word: str, language: str) -> str:
    letters = set(word)
    if letters & _UK_ONLY:
        return "uk"
    if letters & _RU_ONLY:
        return "ru"
    return language if language in CYRILLIC_LANGUAGES else "ru"


def _without_marks(word: str) -> str:
    """``word`` without combining marks (stress accents typed over Cyrillic vowels)."""
    if word.replace("'", "").isalpha():
        return word
    return "".join(c for c in word if unicodedata.category(c)[0] != "M")


class Lemmatizer:
    """Text to content tokens for any language code (see the module docstring for which analysis a word
    gets). ``stopwords`` adds stop words per language code to the built-in ones. Results are cached per
    (word, language)."""

    def __init__(self, cache_size: int = 65536, stopwords: Mapping[str, Iterable[str]] | None = None) -> None:
        self._extra: dict[str, frozenset[str]] = {
            base_language(lang): frozenset(w for phrase in phrases for w in words(phrase))
            for lang, phrases in (stopwords or {}).items()
        }
        self._token = functools.lru_cache(maxsize=cache_size)(self._analyze)

    def tokens(self, text: str, language: str) -> list[Token]:
        """Content tokens of ``text`` in order (stop words dropped)."""
        lang = base_language(language)
        out = []
        for word in words(text):
            tok = self._token(word, lang)
            if tok is not None:
                out.append(tok)
        return out

    def token(self, word: str, language: str) -> Token | None:
        """One lowercase word, or None for a stop word."""
        return self._token(word, base_language(language))

    def stopwords(self, language: str) -> frozenset[str]:
        """The configured extra stop words of a language (the built-in uk/ru/en lists not included)."""
        return self._extra.get(base_language(language), frozenset())

    def cache_clear(self) -> None:
        """Forget cached analyses (benchmarks measure the cold path with it)."""
        self._token.cache_clear()

    def _analyze(self, word: str, language: str) -> Token | None:
        extra = self._extra.get(language, frozenset())
        if _LATIN.search(word):
            if word in STOPWORDS["en"] or word in extra:
                return None
            return Token(word, frozenset({stem(word)}))
        if _CYRILLIC.search(word):
            return self._cyrillic(word, language, extra)
        key = word.casefold()
        if word in extra or key in extra:
            return None
        return Token(word, frozenset({key}))

    @staticmethod
    def _cyrillic(word: str, language: str, extra: frozenset[str]) -> Token | None:
        lang = _cyrillic_language(word, language)
        bare = _without_marks(word)
        parses = analyzer(lang).parse(bare)
        known = [p.normal_form for p in parses if p.is_known]
        lemmas = known or [bare, *(p.normal_form for p in parses[:1])]
        stop = STOPWORDS[lang]
        if bare in stop or lemmas[0] in stop or bare in extra or lemmas[0] in extra:
            return None
        return Token(word, frozenset(lemma.replace(_YO, _YE) for lemma in lemmas))
