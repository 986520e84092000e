"""Schemathesis hooks for tests/web/test_api_contract.py (loaded through ``SCHEMATHESIS_HOOKS``).

Whether a string is a *possible* phone number (libphonenumber's rules per country) cannot be written as a
JSON Schema pattern, so schema-valid ``phones`` are replaced by real possible numbers; everything else
Schemathesis generates goes to the server as generated.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{2,31}$")  # web/schemas/profile.py PHONE
_numbers = itertools.count(1)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Schema-valid phone lists become lists of possible Ukrainian numbers (unique within the run), in every
    phase (the coverage phase builds its bodies without the generation hooks)."""
    body = case.body
    phones = body.get("phones") if isinstance(body, dict) else None
    if isinstance(phones, list) and all(isinstance(p, str) and PHONE.match(p) for p in phones):
        case.body = {**body, "phones": [f"+38044{next(_numbers) % 10_000_000:07d}" for _ in phones]}
