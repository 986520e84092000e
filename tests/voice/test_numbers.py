"""Caller numbers to E.164."""

from __future__ import annotations

import pytest

from voice.numbers import normalize_number


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0441234567", "UA", "+380441234567"),  # national format, default region
        ("0441234567", "ua", "+380441234567"),  # region code is case-insensitive
        ("+14155550123", "UA", "+14155550123"),  # already E.164: region does not matter
        ("00380441234567", "UA", "+380441234567"),  # 00 international prefix
        ("00380441234567", "US", "+380441234567"),
        ("0441234567;ext=12", "UA", "+380441234567"),  # extension dropped
        ("+380441234567;ext=5", "US", "+380441234567"),
        ("044-123-45-67", "UA", "+380441234567"),  # visual separators
        ("(044) 123 4567", "UA", "+380441234567"),
        ("  0441234567  ", "UA", "+380441234567"),
        ("4155550123", "US", "+14155550123"),
    ],
)
def test_numbers_become_e164(raw, region, expected):
    assert normalize_number(raw, region) == expected


@pytest.mark.parametrize("raw", ["sipp", "anonymous", "Anonymous", "service", "phone", "", None, "123", ";ext=1"])
def test_non_numbers_give_none(raw):
    assert normalize_number(raw, "UA") is None


def test_national_number_depends_on_region():
    assert normalize_number("0441234567", "UA") != normalize_number("0441234567", "GB")
    assert normalize_number("0201234567", "GB") == "+44201234567"


def test_national_number_without_a_usable_region_is_none():
    assert normalize_number("0441234567", "ZZ") is None


@pytest.mark.parametrize("user", ["live-abc12345", "did12345", "service", "1800FLOWERS"])
def test_sip_user_names_are_not_vanity_numbers(user):
    assert normalize_number(user, "UA") is None
