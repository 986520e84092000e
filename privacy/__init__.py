"""Redaction of personal data in transcripts: card numbers, phone numbers, e-mail addresses, IBANs.

``redact(text, language)`` returns the text with ``[CARD]``, ``[PHONE]``, ``[EMAIL]``, ``[IBAN]`` in place
of what it found, and the spans of the original text. It reads written digits (``4111 1111-1111``), spoken
digits in Ukrainian, Russian and English (``чотири п'ять сім``, ``сорок пять``, ``forty five``, ``oh``), and
mixtures; the rules for each kind are in :mod:`privacy.classify`, :mod:`privacy.written` and
:mod:`privacy.spoken_email`. Segments (text plus timed words) are redacted consistently by
:func:`redact_segment` and, reading neighbouring segments together, :func:`redact_transcript`.
:func:`redact_event` applies the policy of :class:`PrivacySettings` to a live event.

May import: ``core``.
"""

from privacy.checks import iban_valid, luhn_valid
from privacy.model import ALL_KINDS, Kind, Redacted, Span, apply_spans
from privacy.policy import DTMF_MASK, RawTranscriptForbidden, may_read_raw, redact_call, redact_event, serve_raw
from privacy.scan import find_spans, redact
from privacy.segments import redact_segment, redact_transcript
from privacy.settings import PrivacySettings

__all__ = [
    "ALL_KINDS",
    "DTMF_MASK",
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
    "redact_call",
    "redact_event",
    "redact_segment",
    "redact_transcript",
    "serve_raw",
]
