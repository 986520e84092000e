"""Caller numbers to E.164."""

from __future__ import annotations

import re

import phonenumbers

_DIALLED = re.compile(r"^\+?[0-9(][0-9 ().\-]*$")


def normalize_number(raw: str | None, region: str) -> str | None:
    """E.164 for a user part like ``0441234567``, ``+380441234567`` or ``00380...``; None if not a number.

    Extensions (``;ext=``) and visual separators are ignored.
    """
    if not raw:
        return None
    digits = raw.split(";", 1)[0].strip()
    if not _DIALLED.match(digits):
        return None  # SIP user names ("alice", "did12345") are not vanity numbers
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        parsed = phonenumbers.parse(digits, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
