"""The light English stemmer folds inflections onto one key."""

from __future__ import annotations

import pytest

from hints.english import stem


@pytest.mark.parametrize("forms", [
    ("charge", "charges", "charged", "charging"),
    ("block", "blocks", "blocked", "blocking"),
    ("transfer", "transfers", "transferred", "transferring"),
    ("arrive", "arrived", "arrives", "arriving"),
    ("fee", "fees"),
    ("limit", "limits", "limited"),
    ("delivery", "deliveries"),
    ("steal", "stolen", "stole"),
    ("lose", "lost"),
    ("forget", "forgot", "forgotten"),
])
def test_inflections_share_a_key(forms: tuple[str, ...]) -> None:
    assert len({stem(f) for f in forms}) == 1, {f: stem(f) for f in forms}


@pytest.mark.parametrize(("a", "b"), [("card", "car"), ("pin", "pen"), ("loan", "lost"), ("fraud", "free")])
def test_different_words_stay_apart(a: str, b: str) -> None:
    assert stem(a) != stem(b)


def test_short_and_special_words_are_kept() -> None:
    assert stem("pin") == "pin"
    assert stem("status") == "status"  # -us is not a plural
    assert stem("access") == "access"  # nor is -ss
