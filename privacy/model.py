"""Value types of redaction: what kind of data was found, where, and the redacted text."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """A kind of personal data that redaction replaces with a token such as ``[CARD]``."""

    CARD = "card"
    PHONE = "phone"
    EMAIL = "email"
    IBAN = "iban"
    NUMBER = "number"  # a digit run still being dictated at the end of a live partial hypothesis

    @property
    def token(self) -> str:
        """The replacement text, e.g. ``[CARD]``."""
        return f"[{self.value.upper()}]"


ALL_KINDS: frozenset[Kind] = frozenset(Kind)


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``start:end`` of the *original* text hold data of ``kind``."""

    kind: Kind
    start: int
    end: int

    def overlaps(self, start: int, end: int) -> bool:
        """Whether this span shares at least one character with ``start:end``."""
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted text and the spans of the original text that were replaced, in order."""

    text: str
    spans: list[Span] = field(default_factory=list)


def apply_spans(text: str, spans: list[Span]) -> str:
    """``text`` with every span (sorted, non-overlapping) replaced by its kind's token."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:
            continue
        out += [text[pos:span.start], span.kind.token]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
