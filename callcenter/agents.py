"""Agent credentials and directory-field rules: argon2id for the console, HA1 for SIP digest.

Every check returns the cleaned value or raises :class:`AgentFieldError`, which names the field
and the reason (and the offending value, except for passwords, which are never echoed).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
SKILL_RE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 accepts more; a cap keeps one request from hashing megabytes
NAME_MAX = 255
SKILL_MAX = 64

# ISO 639-1 two-letter codes
LANGUAGES = frozenset({
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm",
    "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee",
    "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu",
    "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is",
    "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw",
    "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms",
    "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os",
    "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl",
    "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi",
    "yo", "za", "zh", "zu",
})

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


class AgentFieldError(ValueError):
    """A directory field that breaks its rule."""

    def __init__(self, field: str, reason: str, value: str | None = None) -> None:
        shown = f" ({value!r})" if value is not None else ""
        super().__init__(f"{field}{shown}: {reason}")
        self.field = field
        self.reason = reason
        self.value = value


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash never matches."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    return hash_password("decoy password, never matched")


def burn_verify_time(password: str) -> None:
    """Spend what a real verification costs, so unknown usernames cannot be told apart by timing."""
    verify_password(_decoy_hash(), password)


def digest_ha1(username: str, realm: str, password: str) -> str:
    """HA1 of RFC 2617 MD5 digest authentication: hex MD5 of ``username:realm:password``."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def check_name(name: str) -> str:
    """A display name: trimmed, 1..255 characters."""
    clean = name.strip()
    if not clean or len(clean) > NAME_MAX:
        raise AgentFieldError("name", f"must be 1 to {NAME_MAX} characters", name)
    return clean


def check_username(username: str) -> str:
    """A SIP user name: 1..64 of letters, digits, dot, underscore, hyphen."""
    if not USERNAME_RE.fullmatch(username):
        raise AgentFieldError("username", "must be 1 to 64 of A-Z a-z 0-9 . _ -", username)
    return username


def check_password(password: str) -> str:
    """A password of 8..1024 characters (never echoed in the error)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AgentFieldError("password", f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def check_languages(languages: Iterable[str]) -> tuple[str, ...]:
    """ISO 639-1 codes in lower case, duplicates dropped, order kept."""
    out: list[str] = []
    for lang in languages:
        if lang not in LANGUAGES:
            raise AgentFieldError("languages", "not an ISO 639-1 code (two lower-case letters, e.g. uk)", lang)
        if lang not in out:
            out.append(lang)
    return tuple(out)


def check_skills(skills: Iterable[str]) -> tuple[str, ...]:
    """Lower-case slugs (``cards``, ``car-loans``), duplicates dropped, order kept."""
    out: list[str] = []
    for skill in skills:
        if len(skill) > SKILL_MAX or not SKILL_RE.fullmatch(skill):
            raise AgentFieldError("skills", f"must be a lower-case slug of at most {SKILL_MAX} characters", skill)
        if skill not in out:
            out.append(skill)
    return tuple(out)
