"""E-mail addresses and IBANs in written form (``ivan.petrenko@bank.ua``, ``UA21 3223 1300 ...``)."""

from __future__ import annotations

import re

from privacy.checks import IBAN_LENGTHS, iban_valid
from privacy.model import Kind, Span

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w])"
)
_IBAN_START = re.compile(r"(?<![^\W_])[A-Za-z]{2}[0-9]{2}")
_IBAN_SEPARATORS = " -"
_ISO_DATE = re.compile(r"(?<![\w-])(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?![\w-])")


def written_emails(text: str) -> list[Span]:
    """Spans of written e-mail addresses."""
    return [Span(Kind.EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def written_dates(text: str) -> list[tuple[int, int]]:
    """Offsets of ISO dates (``2024-05-12``): their digits are never part of a card or phone number."""
    return [m.span() for m in _ISO_DATE.finditer(text)]


def _iban_end(text: str, start: int, length: int) -> int | None:
    """Where an IBAN of ``length`` characters starting at ``start`` ends, with single spaces or dashes
    allowed between characters; None when it is cut short or runs into more letters or digits."""
    taken, k = 0, start
    while taken < length:
        if k < len(text) and text[k] in _IBAN_SEPARATORS and taken > 0 and k + 1 < len(text) and text[k + 1].isalnum():
            k += 1
        if k >= len(text) or not (text[k].isascii() and text[k].isalnum()):
            return None
        taken += 1
        k += 1
    return None if k < len(text) and text[k].isalnum() else k


def written_ibans(text: str) -> list[Span]:
    """Spans of written IBANs of a registered country, length and mod-97 check (case-insensitive)."""
    spans: list[Span] = []
    for m in _IBAN_START.finditer(text):
        if spans and m.start() < spans[-1].end:
            continue
        length = IBAN_LENGTHS.get(m.group()[:2].upper())
        end = _iban_end(text, m.start(), length) if length else None
        if end is None:
            continue
        compact = "".join(ch for ch in text[m.start():end] if ch.isalnum())
        if iban_valid(compact):
            spans.append(Span(Kind.IBAN, m.start(), end))
    return spans
