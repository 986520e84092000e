"""The profile dataclasses reject data the rules could not compare safely."""

from __future__ import annotations

from datetime import datetime

import pytest

from hints.context import HintContext, Interaction, OpenCase
from hints.errors import ContextError
from tests.hints.conftest import NOW


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2025, 3, 1, 12)
    with pytest.raises(ContextError) as info:
        Interaction(naive, ("fees",))
    assert info.value.field == "interaction.at" and info.value.value == naive
    with pytest.raises(ContextError, match=r"open case CS-1\.opened"):
        OpenCase("CS-1", "fees", naive)


def test_unknown_verification_decision() -> None:
    with pytest.raises(ContextError) as info:
        HintContext("c1", verification="probably")  # type: ignore[arg-type]
    assert info.value.field == "verification" and "not_verified" in info.value.reason


def test_minimal_profile() -> None:
    ctx = HintContext("c1", interactions=(Interaction(NOW, ("fees",)),))
    assert ctx.verification is None and ctx.flags == frozenset() and ctx.cards == ()
