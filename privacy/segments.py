"""Redacting transcript segments (``{"text", "words": [{"word", "start", "end", "conf"}], ...}``).

The words covered by one redacted span become one word, the span's token, from the first word's start
to the last word's end (confidence: the lowest of theirs), so that text and words stay consistent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from privacy.model import ALL_KINDS, Kind, Span, apply_spans
from privacy.scan import find_spans

MAX_GAP_S = 5.0  # segments of one leg closer than this are read together (a card dictated with pauses)


def align_words(words: Sequence[str], text: str) -> list[tuple[int, int]] | None:
    """Offsets of each word in ``text``, found in order; None when a word is missing."""
    out: list[tuple[int, int]] = []
    pos = 0
    for word in words:
        at = text.find(word, pos)
        if at < 0:
            return None
        out.append((at, at + len(word)))
        pos = at + len(word)
    return out


def redact_words(words: Sequence[Mapping[str, Any]], offsets: Sequence[tuple[int, int]],
                 spans: Sequence[Span]) -> list[dict[str, Any]]:
    """``words`` (at ``offsets`` of the text ``spans`` refer to) with each span's words merged into its token."""
    out: list[dict[str, Any]] = []
    current: Span | None = None
    for word, (start, end) in zip(words, offsets, strict=True):
        span = next((s for s in spans if s.overlaps(start, max(end, start + 1))), None)
        if span is None:
            out.append(dict(word))
        elif span is current:
            merged = out[-1]
            merged["end"] = word.get("end", merged.get("end"))
            if isinstance(word.get("conf"), int | float) and isinstance(merged.get("conf"), int | float):
                merged["conf"] = min(merged["conf"], word["conf"])
        else:
            out.append({**word, "word": span.kind.token})
        current = span
    return out


def _apply(segment: Mapping[str, Any], spans: list[Span], language: str | None,
           kinds: Collection[Kind]) -> dict[str, Any]:
    """``segment`` with ``spans`` (of its text) redacted in its text and words."""
    text = str(segment.get("text") or "")
    out = dict(segment)
    out["text"] = apply_spans(text, spans)
    words = segment.get("words")
    if words:
        names = [str(w.get("word", "")) for w in words]
        offsets = align_words(names, text)
        if offsets is None:  # words that do not spell the text: judge the words on their own
            joined = " ".join(names)
            offsets, spans = align_words(names, joined), find_spans(joined, language, kinds)
        assert offsets is not None
        out["words"] = redact_words(words, offsets, spans)
    return out


def redact_segment(segment: Mapping[str, Any], language: str | None = None, kinds: Collection[Kind] = ALL_KINDS,
                   pending: bool = False) -> dict[str, Any]:
    """A copy of one segment (or live event) with its ``text`` and ``words`` redacted."""
    spans = find_spans(str(segment.get("text") or ""), language, kinds, pending)
    return _apply(segment, spans, language, kinds)


def _chains(segments: Sequence[Mapping[str, Any]], max_gap_s: float) -> list[list[int]]:
    """Indices of segments of one leg in time order, split where the pause exceeds ``max_gap_s``."""
    order = sorted(range(len(segments)), key=lambda i: (str(segments[i].get("leg")), segments[i].get("start") or 0))
    chains: list[list[int]] = []
    for i in order:
        seg, prev = segments[i], segments[chains[-1][-1]] if chains else None
        if (prev is not None and prev.get("leg") == seg.get("leg")
                and (seg.get("start") or 0) - (prev.get("end") or 0) <= max_gap_s):
            chains[-1].append(i)
        else:
            chains.append([i])
    return chains


def redact_transcript(segments: Sequence[Mapping[str, Any]], language: str | None = None,
                      kinds: Collection[Kind] = ALL_KINDS, max_gap_s: float = MAX_GAP_S) -> list[dict[str, Any]]:
    """Copies of ``segments`` (order kept) redacted together: consecutive segments of one leg less than
    ``max_gap_s`` apart are read as one text, so a number dictated across pauses is still found."""
    out: list[dict[str, Any]] = [dict(s) for s in segments]
    for chain in _chains(segments, max_gap_s):
        texts = [str(segments[i].get("text") or "") for i in chain]
        spans = find_spans("\n".join(texts), language, kinds)  # a line break marks the pause
        offset = 0
        for i, text in zip(chain, texts, strict=True):
            local = [Span(s.kind, max(s.start, offset) - offset, min(s.end, offset + len(text)) - offset)
                     for s in spans if s.overlaps(offset, offset + len(text))]
            out[i] = _apply(segments[i], local, language, kinds)
            offset += len(text) + 1
    return out
