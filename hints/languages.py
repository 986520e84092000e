"""Language codes: any ISO 639 code (two or three lowercase letters), set by configuration.

The engine knows no fixed list of languages. A knowledge base may give trigger phrases in any language,
and the matcher builds one index for each language that occurs in it. Only the lemmatizer treats
scripts differently (see ``hints.lemmas``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
_CODE = re.compile(LANGUAGE_PATTERN)


def language_code(value: object) -> str:
    """``value`` if it is a language code such as "uk" or "ko"; otherwise ValueError says what is wrong."""
    if isinstance(value, bool):  # YAML 1.1 reads an unquoted no / yes / on / off as a boolean
        raise ValueError(f"language code read as the boolean {value}: quote it (for example 'no')")
    if not isinstance(value, str):
        raise ValueError(f"language code must be a string, got {type(value).__name__}")
    if not _CODE.fullmatch(value):
        raise ValueError(f"language {value!r} is not a language code: expected 2 or 3 lowercase letters "
                         "(ISO 639, for example 'uk', 'en', 'ko')")
    return value


Language = Annotated[str, BeforeValidator(language_code)]
"""A validated language code (a plain ``str`` to type checkers)."""
