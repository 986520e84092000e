"""Redaction of personal data in transcripts: card numbers, phone numbers, e-mail addresses, IBANs.

``redact(text, language)`` returns the text with ``[CARD]``, ``[PHONE]``, ``[EMAIL]``, ``[IBAN]`` in place
of what it found, and the spans of the original text. It reads written digits (``4111 1111-1111``), spoken
digits in Ukrainian, Russian and English (``чотири п'ять сім``, ``сорок пять``, ``forty five``, ``oh``), and
mixtures; the rules for each kind are in :mod:`api.redaction.classify`, :mod:`api.redaction.written` and
:mod:`api.redaction.spoken_email`. Segments (text plus timed words) are redacted consistently by
:func:`redact_segment` and, reading neighbouring segments together, :func:`redact_transcript`.
:func:`redact_event` applies the policy of :class:`PrivacySettings` to a live event.
"""

from api.redaction.checks import iban_valid, luhn_valid
from api.redaction.core import find_spans, redact
from api.redaction.model import ALL_KINDS, Kind, Redacted, Span, apply_spans
from api.redaction.policy import RawTranscriptForbidden, may_read_raw, redact_event, serve_raw
from api.redaction.segments import redact_segment, redact_transcript
from api.redaction.settings import PrivacySettings

__all__ = [
    "ALL_KINDS",
    "Kind",
    "PrivacySettings",
    "RawTranscriptForbidden",
    "Redacted",
    "Span",
    "apply_spans",
    "find_spans",
    "iban_valid",
    "luhn_valid",
    "may_read_raw",
    "redact",
    "redact_event",
    "redact_segment",
    "redact_transcript",
    "serve_raw",
]
