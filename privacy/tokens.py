"""Words of a text with their character offsets, and what may separate words of one number."""

from __future__ import annotations

import re
from dataclasses import dataclass

_APOSTROPHE_LIKE = "\u2019\u02bc`"  # right single quotation mark, modifier letter apostrophe, grave accent
_WORD = re.compile(rf"[^\W_]+(?:['{_APOSTROPHE_LIKE}][^\W_]+)*")
_APOSTROPHES = str.maketrans(dict.fromkeys(_APOSTROPHE_LIKE, "'"))
_DIGITS = re.compile(r"[0-9]+")
# Between the parts of one written or spoken number: spaces, dashes, brackets ("(044) 123-45-67").
_NUMBER_GAP = re.compile("[\\s()\\-\u2010\u2011\u2013\u2014]*")  # hyphens, en and em dashes


@dataclass(frozen=True, slots=True)
class Token:
    """One word (letters and digits, inner apostrophes) at ``start:end`` of the text, normalized."""

    text: str
    start: int
    end: int

    @property
    def is_digits(self) -> bool:
        """Written digits only (ASCII)."""
        return _DIGITS.fullmatch(self.text) is not None


def normalize(word: str) -> str:
    """Lowercase with the ASCII apostrophe, as the lexicon stores words."""
    return word.lower().translate(_APOSTROPHES)


def tokenize(text: str) -> list[Token]:
    """Every word of ``text`` in order."""
    return [Token(normalize(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def number_gap(text: str, left: Token, right: Token) -> bool:
    """Whether ``left`` and ``right`` may belong to one number (only spaces, dashes or brackets between)."""
    return _NUMBER_GAP.fullmatch(text, left.end, right.start) is not None


def space_gap(text: str, left: Token, right: Token) -> bool:
    """Whether only whitespace separates ``left`` and ``right``."""
    return left.end < right.start and text[left.end:right.start].isspace()
