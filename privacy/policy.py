"""Who sees what: redacted text by default, the original only for allowed roles that ask for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privacy.segments import redact_segment
from privacy.settings import PrivacySettings


class RawTranscriptForbidden(PermissionError):
    """A role asked for unredacted text it may not read."""

    def __init__(self, role: str, allowed: list[str]) -> None:
        super().__init__(f"role {role!r} may not read unredacted transcripts (raw=true); "
                         f"allowed roles: {', '.join(allowed) or 'none'}")
        self.role = role
        self.allowed = list(allowed)


def may_read_raw(role: str, settings: PrivacySettings) -> bool:
    """Whether ``role`` may read unredacted transcripts at all."""
    return role in settings.raw_transcript_roles


def serve_raw(role: str, raw: bool, settings: PrivacySettings) -> bool:
    """Whether to serve unredacted text: only when asked for (``raw``) by an allowed role.

    Raises :class:`RawTranscriptForbidden` when ``raw`` is asked for by a role that may not have it.
    """
    if raw and not may_read_raw(role, settings):
        raise RawTranscriptForbidden(role, settings.raw_transcript_roles)
    return raw


def redact_event(data: Mapping[str, Any], role: str, settings: PrivacySettings, *, raw: bool = False,
                 language: str | None = None) -> dict[str, Any]:
    """A live event as ``role`` may see it (a copy; ``data`` is untouched).

    ``final`` and ``partial`` events get their ``text`` (and ``words``) redacted unless ``raw`` is asked for
    by an allowed role (else :class:`RawTranscriptForbidden`); partials also hide a long number still being
    dictated. Other events pass unchanged. Each event is judged alone: a number split over two finals is
    only caught by the transcript endpoint, which reads neighbouring segments together.
    """
    if serve_raw(role, raw, settings) or data.get("type") not in ("final", "partial"):
        return dict(data)
    return redact_segment(data, language, settings.kinds, pending=data.get("type") == "partial")
