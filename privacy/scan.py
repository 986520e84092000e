"""``redact``: find card numbers, IBANs, phone numbers and e-mail addresses and replace them with tokens."""

from __future__ import annotations

from collections.abc import Collection

from privacy.classify import classify
from privacy.lexicon import lexicon_for
from privacy.model import ALL_KINDS, Kind, Redacted, Span, apply_spans
from privacy.numbers import RunFinder
from privacy.spoken_email import spoken_emails
from privacy.tokens import Token, tokenize
from privacy.written import written_dates, written_emails, written_ibans


def _covered(tokens: list[Token], ranges: list[tuple[int, int]]) -> set[int]:
    """Indices of the tokens that share a character with one of ``ranges``."""
    return {i for i, t in enumerate(tokens) if any(a < t.end and t.start < b for a, b in ranges)}


def _number_spans(text: str, tokens: list[Token], language: str | None, masked: set[int],
                  pending: bool) -> list[Span]:
    spans: list[Span] = []
    for run in RunFinder(text, tokens, lexicon_for(language), masked).runs():
        for found in classify(run, pending):
            start = tokens[run.groups[found.lo].first].start
            if found.lo == 0 and found.kind is Kind.PHONE and run.plus_start is not None:
                start = run.plus_start
            elif found.kind is Kind.PHONE and text[start - 1:start] == "(":
                start -= 1  # "(044) 123-45-67": the bracket goes with the number
            if found.lo == 0 and found.kind is Kind.IBAN and run.iban_start is not None:
                start = run.iban_start
            spans.append(Span(found.kind, start, tokens[run.groups[found.hi - 1].last].end))
    return spans


def find_spans(text: str, language: str | None = None, kinds: Collection[Kind] = ALL_KINDS,
               pending: bool = False) -> list[Span]:
    """Spans of ``text`` to redact, sorted and non-overlapping.

    ``language``: the transcript's language tag (``uk``, ``ru``, ``en``; None or another tag: all of them),
    which selects the number words understood. ``kinds``: what to redact. ``pending``: ``text`` is a
    live partial hypothesis, so a long digit run at its end is hidden even before it is complete.
    """
    tokens = tokenize(text)
    spans = written_emails(text) + written_ibans(text)
    masked = _covered(tokens, [(s.start, s.end) for s in spans] + written_dates(text))
    for span, covered in spoken_emails(text, tokens, lexicon_for(language), masked):
        spans.append(span)
        masked.update(covered)
    spans += _number_spans(text, tokens, language, masked, pending)
    wanted = set(kinds)
    if not wanted & {Kind.CARD, Kind.PHONE}:
        wanted.discard(Kind.NUMBER)  # an unfinished number is hidden as a possible card or phone
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.kind in wanted and not (out and span.start < out[-1].end):
            out.append(span)
    return out


def redact(text: str, language: str | None = None, *, kinds: Collection[Kind] = ALL_KINDS,
           pending: bool = False) -> Redacted:
    """``text`` with card numbers, IBANs, phone numbers and e-mail addresses replaced by ``[CARD]``,
    ``[IBAN]``, ``[PHONE]``, ``[EMAIL]`` (see :mod:`privacy` for the rules); spans refer to ``text``."""
    spans = find_spans(text, language, kinds, pending)
    return Redacted(apply_spans(text, spans), spans)
