"""Who sees what: redacted text by default, the original only for allowed roles that ask for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from privacy.scan import redact
from privacy.segments import redact_segment
from privacy.settings import PrivacySettings

DTMF_MASK = "*"  # keys pressed may be a PIN or a card number: shown as pressed, not which
TEXT_FIELDS = {"reason": "text", "wrapup": "notes"}  # event type -> free-text field redacted like transcripts


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

    Unless ``raw`` is asked for by an allowed role (else :class:`RawTranscriptForbidden`): ``final`` and
    ``partial`` events get their ``text`` (and ``words``) redacted, partials also hiding a long number still
    being dictated; the caller's ``reason`` and wrap-up ``notes`` are redacted the same way; a ``dtmf`` digit
    is masked. Other events pass unchanged. Each event is judged alone: a number split over two finals is
    only caught by the transcript endpoint, which reads neighbouring segments together.
    """
    kind = data.get("type")
    if serve_raw(role, raw, settings):
        return dict(data)
    if kind in ("final", "partial"):
        return redact_segment(data, language, settings.kinds, pending=kind == "partial")
    if kind == "dtmf" and "digit" in data:
        return {**data, "digit": DTMF_MASK}
    field = TEXT_FIELDS.get(str(kind))
    if field is not None and isinstance(data.get(field), str):
        return {**data, field: redact(data[field], language, kinds=settings.kinds).text}
    return dict(data)


def redact_call(call: Mapping[str, Any], role: str, settings: PrivacySettings, *, raw: bool = False
                ) -> dict[str, Any]:
    """A stored call as ``role`` may see it: its ``reason`` and its ``timeline`` events (DTMF, reason,
    wrap-up notes) redacted unless ``raw`` is asked for by an allowed role (see :func:`redact_event`)."""
    if serve_raw(role, raw, settings):
        return dict(call)
    language = call.get("language")
    out = dict(call)
    if isinstance(out.get("reason"), str):
        out["reason"] = redact(out["reason"], language, kinds=settings.kinds).text
    if isinstance(out.get("timeline"), list):
        out["timeline"] = [redact_event(e, role, settings, language=language) for e in out["timeline"]]
    return out
