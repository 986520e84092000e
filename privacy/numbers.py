"""Digit sequences in text: written digits, spoken number words, or both mixed, with their positions.

A *group* is what one speaker unit says: a written digit string (``4149``), a digit word (``сім``), a
compound (``сорок п'ять`` = 45, ``сто двадцять три`` = 123, ``four hundred and five`` = 405,
``double five`` = 55). A *run* is a maximal sequence of groups separated only by spaces, dashes or
brackets (hesitations such as ``ну``/``um`` between groups are allowed). A line break also joins a run
but is remembered: it marks a pause between transcript segments, where a new number may begin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from privacy.lexicon import IBAN_UA_FIRST, IBAN_UA_ONE, IBAN_UA_SECOND, Role, Word
from privacy.tokens import Token, number_gap


@dataclass(frozen=True, slots=True)
class Group:
    """Digits said or written as one unit, over tokens ``first..last`` (inclusive)."""

    digits: str
    first: int
    last: int
    written: bool
    after_break: bool = False  # a line break (a pause between transcript segments) comes right before it


@dataclass(frozen=True, slots=True)
class Run:
    """Groups of one dictated number, and what precedes it."""

    groups: tuple[Group, ...]
    plus_start: int | None  # offset of a written "+" or a spoken "plus"/"плюс" right before the run
    iban_start: int | None  # offset of a written or spoken "UA" right before the run
    at_end: bool  # nothing but punctuation follows the run

    @property
    def digits(self) -> str:
        """All digits of the run."""
        return "".join(g.digits for g in self.groups)


class RunFinder:
    """Finds runs in one tokenized text; tokens in ``masked`` (already redacted) break runs."""

    def __init__(self, text: str, tokens: list[Token], lexicon: Mapping[str, Word], masked: set[int]) -> None:
        self.text, self.tokens, self.lexicon, self.masked = text, tokens, lexicon, masked

    def _word(self, k: int, prev: int | None = None) -> Word | None:
        """The number word at token ``k`` if it may continue the number whose last token is ``prev``."""
        if k >= len(self.tokens) or k in self.masked:
            return None
        if prev is not None and not number_gap(self.text, self.tokens[prev], self.tokens[k]):
            return None
        return self.lexicon.get(self.tokens[k].text)

    def _below_hundred(self, k: int, prev: int) -> tuple[int, int]:
        """Value (0-99) of the words from token ``k`` on that complete a hundreds group, and the next index."""
        word = self._word(k, prev)
        if word is None or (word.role is Role.UNIT and word.value == 0):
            return 0, k
        if word.role in (Role.UNIT, Role.TEEN):
            return word.value, k + 1
        if word.role is Role.TENS:
            unit = self._word(k + 1, k)
            if unit is not None and unit.role is Role.UNIT and unit.value > 0:
                return word.value + unit.value, k + 2
            return word.value, k + 1
        return 0, k

    def _hundreds(self, i: int, value: int, k: int) -> Group:
        """A three-digit group: ``value`` hundreds whose last word is token ``k - 1``, plus what follows."""
        after_and = self._word(k, k - 1)
        if after_and is not None and after_and.role is Role.AND:
            tail, end = self._below_hundred(k + 1, k)
            if end == k + 1:  # "and" followed by no number: not part of this group
                tail, end = 0, k
        else:
            tail, end = self._below_hundred(k, k - 1)
        return Group(f"{value + tail:03d}", i, end - 1, False)

    def group(self, i: int) -> Group | None:
        """The group starting at token ``i``, if one does."""
        if i >= len(self.tokens) or i in self.masked:
            return None
        if self.tokens[i].is_digits:
            return Group(self.tokens[i].text, i, i, True)
        word = self._word(i)
        if word is None:
            return None
        nxt = self._word(i + 1, i)
        if word.role is Role.UNIT:
            if nxt is not None and nxt.role is Role.HUNDRED and word.value > 0:
                return self._hundreds(i, word.value * 100, i + 2)
            return Group(str(word.value), i, i, False)
        if word.role is Role.TEEN:
            return Group(str(word.value), i, i, False)
        if word.role is Role.TENS:
            if nxt is not None and nxt.role is Role.UNIT and nxt.value > 0:
                return Group(str(word.value + nxt.value), i, i + 1, False)
            return Group(str(word.value), i, i, False)
        if word.role is Role.HUNDREDS:
            return self._hundreds(i, word.value, i + 1)
        if word.role is Role.REPEAT and nxt is not None and nxt.role is Role.UNIT:
            return Group(str(nxt.value) * word.value, i, i + 1, False)
        return None

    def _bridges(self, last: int, k: int) -> bool:
        """Whether token ``k`` is a hesitation between the group ending at ``last`` and a next group."""
        word = self._word(k, last)
        if word is None or word.role is not Role.FILLER or self.group(k + 1) is None:
            return False
        return number_gap(self.text, self.tokens[k], self.tokens[k + 1])

    def runs(self) -> list[Run]:
        """Every run of the text, in order."""
        out: list[Run] = []
        current: list[Group] = []
        prev = -1  # last token taken into the current run (a group's or a hesitation's)
        i = 0
        while i < len(self.tokens):
            if current and not number_gap(self.text, self.tokens[prev], self.tokens[i]):
                out.append(self._run(current))
                current = []
            found = self.group(i)
            if found is not None:
                current.append(found)
                prev = i = found.last
            elif current and self._bridges(prev, i):
                prev = i
            elif current:
                out.append(self._run(current))
                current = []
            i += 1
        if current:
            out.append(self._run(current))
        return out

    def _run(self, groups: list[Group]) -> Run:
        first = groups[0].first
        marked = [groups[0], *(replace(g, after_break="\n" in self.text[self.tokens[g.first - 1].end:
                                                                      self.tokens[g.first].start])
                               for g in groups[1:])]
        return Run(tuple(marked), self._plus_before(first), self._ua_before(first),
                   groups[-1].last == len(self.tokens) - 1)

    def _plus_before(self, first: int) -> int | None:
        k = self.tokens[first].start - 1
        while k >= 0 and self.text[k] in " \t":
            k -= 1
        if k >= 0 and self.text[k] == "+" and (k == 0 or not self.text[k - 1].isalnum()):
            return k
        word = self._word(first - 1) if first > 0 else None
        if word is not None and word.role is Role.PLUS and number_gap(self.text, self.tokens[first - 1],
                                                                      self.tokens[first]):
            return self.tokens[first - 1].start
        return None

    def _ua_before(self, first: int) -> int | None:
        def letters(k: int, options: frozenset[str]) -> bool:
            return (k >= 0 and k not in self.masked and self.tokens[k].text in options
                    and number_gap(self.text, self.tokens[k], self.tokens[k + 1]))

        if letters(first - 1, IBAN_UA_ONE):
            return self.tokens[first - 1].start
        if letters(first - 1, IBAN_UA_SECOND) and letters(first - 2, IBAN_UA_FIRST):
            return self.tokens[first - 2].start
        return None
