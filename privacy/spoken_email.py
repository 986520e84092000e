"""E-mail addresses said aloud: ``ivan dot petrenko at gmail dot com``, ``олена собака укрнет крапка юа``.

The pattern is strict so that ordinary words are never taken for an address: a local part (one word,
or words joined by ``dot``/``underscore``/... ; number words right before the ``at`` join it too), an
``at`` word (``at``, ``собака``, ``равлик``), then at least one ``label dot`` pair ending in a known
top-level domain (``com``, ``ком``, ``ua``, ``юа``, ``net``, ...), all separated by whitespace only.
"""

from __future__ import annotations

from collections.abc import Mapping

from privacy.lexicon import EMAIL_AT, EMAIL_DOT, EMAIL_JOIN, EMAIL_TLDS, Word
from privacy.model import Kind, Span
from privacy.tokens import Token, space_gap

_SPECIAL = EMAIL_AT | EMAIL_DOT | EMAIL_JOIN


class _Finder:
    def __init__(self, text: str, tokens: list[Token], lexicon: Mapping[str, Word], masked: set[int]) -> None:
        self.text, self.tokens, self.lexicon, self.masked = text, tokens, lexicon, masked

    def label(self, k: int) -> bool:
        return 0 <= k < len(self.tokens) and k not in self.masked and self.tokens[k].text not in _SPECIAL

    def is_(self, k: int, words: frozenset[str]) -> bool:
        return 0 <= k < len(self.tokens) and k not in self.masked and self.tokens[k].text in words

    def joined(self, a: int, b: int) -> bool:
        return space_gap(self.text, self.tokens[a], self.tokens[b])

    def domain_end(self, at: int) -> int | None:
        """Last token of the domain after the ``at`` word at ``at`` (ending in a known TLD), or None."""
        k, end = at + 1, None
        if not (self.label(k) and self.joined(at, k)):
            return None
        while self.is_(k + 1, EMAIL_DOT) and self.label(k + 2) and self.joined(k, k + 1) and self.joined(k + 1, k + 2):
            k += 2
            if self.tokens[k].text in EMAIL_TLDS:
                end = k
        return end

    def local_start(self, at: int) -> int | None:
        """First token of the local part before the ``at`` word at ``at``, or None."""
        k = at - 1
        if not (self.label(k) and self.joined(k, at)):
            return None
        while (self.is_(k - 1, EMAIL_DOT | EMAIL_JOIN) and self.label(k - 2)
               and self.joined(k - 2, k - 1) and self.joined(k - 1, k)):
            k -= 2
        while self._numeric(k) and self.label(k - 1) and self._numeric(k - 1) and self.joined(k - 1, k):
            k -= 1
        return k

    def _numeric(self, k: int) -> bool:
        return self.tokens[k].is_digits or self.tokens[k].text in self.lexicon

    def find(self) -> list[tuple[Span, range]]:
        out: list[tuple[Span, range]] = []
        for at in range(len(self.tokens)):
            if not self.is_(at, EMAIL_AT) or (out and at <= out[-1][1].stop - 1):
                continue
            end = self.domain_end(at)
            start = self.local_start(at) if end is not None else None
            if end is not None and start is not None:
                span = Span(Kind.EMAIL, self.tokens[start].start, self.tokens[end].end)
                out.append((span, range(start, end + 1)))
        return out


def spoken_emails(text: str, tokens: list[Token], lexicon: Mapping[str, Word],
                  masked: set[int]) -> list[tuple[Span, range]]:
    """Spans of spoken e-mail addresses, each with the token indices it covers."""
    return _Finder(text, tokens, lexicon, masked).find()
