"""Which part of a digit run is a card, an IBAN or a phone number.

Rules, tried in this order on each run (and again on what is left on either side of a match):

1. **IBAN**: 27 consecutive digits that make a valid Ukrainian IBAN with ``UA`` in front (mod 97). A
   written ``UA`` or its letter names spoken right before the run join the span.
2. **Card**: 13-19 consecutive digits, not starting with 0, passing the Luhn check; lengths are tried
   16, 15, 19, 13, 18, 17, 14 at each start, earliest start first; never written like an amount
   (``1 250 000 000 000``, see rule 3). A run of up to 19 digits is a card
   only as a whole (or, across transcript segments, between pauses), so a Luhn-invalid run never
   yields a card by chance from a part of it; only a longer run (a card with its expiry date, a card
   then a phone) is searched for a card anywhere inside it.
3. **Phone**, on a remaining piece as a whole: after a written ``+`` or a spoken ``plus``/``плюс``,
   8-15 digits (E.164); otherwise 10-12 digits (national forms: ``0XX XXX XX XX``, ``380...``,
   ``8 XXX ...``, NANP), except written thousands groupings such as ``2 500 000 000`` (an amount).
   Shorter runs (amounts, dates, times, PINs of 4-6 digits, 7-digit local numbers) are left alone.
4. **Number** (live partial hypotheses only): a run of 7 or more digits that reaches the end of the
   hypothesis and is none of the above yet, since the speaker may still be dictating a card.

Matches never split a group: ``сорок п'ять`` (45) is redacted whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from privacy.checks import iban_valid, luhn_valid
from privacy.model import Kind
from privacy.numbers import Group, Run

CARD_LENGTHS = (16, 15, 19, 13, 18, 17, 14)
UA_IBAN_DIGITS = 27
PENDING_MIN_DIGITS = 7  # the first six digits (the BIN) may be shown, as PCI DSS allows


@dataclass(frozen=True, slots=True)
class Finding:
    """Groups ``lo:hi`` of a run are data of ``kind``."""

    kind: Kind
    lo: int
    hi: int


def _ua_iban(groups: tuple[Group, ...]) -> bool:
    return iban_valid("UA" + "".join(g.digits for g in groups))


def _thousands(groups: tuple[Group, ...]) -> bool:
    """Written like an amount: ``1 250 000 000`` (1-3 digits, then groups of exactly three)."""
    head, *rest = groups
    return (len(groups) >= 3 and all(g.written for g in groups) and 1 <= len(head.digits) <= 3
            and head.digits[0] != "0" and all(len(g.digits) == 3 for g in rest))


def _card(groups: tuple[Group, ...]) -> bool:
    digits = "".join(g.digits for g in groups)
    return digits[0] != "0" and luhn_valid(digits) and not _thousands(groups)


def _phone(groups: tuple[Group, ...], plus: bool) -> bool:
    count = sum(len(g.digits) for g in groups)
    if plus:
        return 8 <= count <= 15
    return 10 <= count <= 12 and not _thousands(groups)


_CANDIDATES: tuple[tuple[Kind, int, Callable[[tuple[Group, ...]], bool]], ...] = (
    (Kind.IBAN, UA_IBAN_DIGITS, _ua_iban), *((Kind.CARD, n, _card) for n in CARD_LENGTHS))


class _Carver:
    """Splits one run into findings, piece by piece."""

    def __init__(self, run: Run, pending: bool) -> None:
        self.run, self.groups, self.pending = run, run.groups, pending
        self.ends = [0, *accumulate(len(g.digits) for g in run.groups)]  # digits before each group
        self.by_end = {e: j for j, e in enumerate(self.ends)}

    def window(self, lo: int, hi: int, anywhere: bool) -> Finding | None:
        """The earliest IBAN or card in groups ``lo:hi`` (at one start, an IBAN first, then card lengths
        in order). Unless ``anywhere``, it must start and end at the piece's edges or at line breaks."""

        def edge(k: int) -> bool:
            return anywhere or k in (lo, hi) or self.groups[k].after_break

        for i in range(lo, hi):
            if not edge(i):
                continue
            for kind, length, check in _CANDIDATES:
                j = self.by_end.get(self.ends[i] + length)
                if j is not None and j <= hi and edge(j) and check(self.groups[i:j]):
                    return Finding(kind, i, j)
        return None

    def piece(self, lo: int, hi: int) -> Finding | None:
        """Rules 1-4 on groups ``lo:hi``: an IBAN or card window first, else the piece as a whole."""
        count = self.ends[hi] - self.ends[lo]
        found = self.window(lo, hi, anywhere=False)
        if found is None and count > max(CARD_LENGTHS):
            found = self.window(lo, hi, anywhere=True)
        if found is not None:
            return found
        if _phone(self.groups[lo:hi], plus=lo == 0 and self.run.plus_start is not None):
            return Finding(Kind.PHONE, lo, hi)
        if self.pending and self.run.at_end and hi == len(self.groups) and count >= PENDING_MIN_DIGITS:
            return Finding(Kind.NUMBER, lo, hi)
        return None


def classify(run: Run, pending: bool = False) -> list[Finding]:
    """Every finding in ``run``, in order. ``pending``: the run is in a live partial hypothesis."""
    carver = _Carver(run, pending)
    findings: list[Finding] = []
    pieces = [(0, len(run.groups))]
    while pieces:  # a loop, not recursion: a transcript may hold thousands of digits in a row
        lo, hi = pieces.pop()
        found = carver.piece(lo, hi) if lo < hi else None
        if found is not None:
            findings.append(found)
            if found.kind in (Kind.IBAN, Kind.CARD):
                pieces += [(lo, found.lo), (found.hi, hi)]
    return sorted(findings, key=lambda f: f.lo)
