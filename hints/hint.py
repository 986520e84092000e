"""What the engine hands to the agent's console: one whispered hint and why it fired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

HintKind = Literal["kb", "rule", "reason"]


@dataclass(frozen=True)
class Hint:
    """One hint.

    ``id`` is stable per source ("kb:<article id>", "rule:<rule id>", "reason:<topic>"): a session never
    emits the same id twice. ``why`` says what fired it: the matched words (``kb``), the rule and the
    profile data it saw (``rule``), or the evidence for the predicted reason (``reason``). ``leg`` is the
    call leg whose words fired it, ``None`` for hints that come from the profile alone.
    """

    id: str
    kind: HintKind
    title: str
    text: str
    link: str | None
    confidence: float
    why: str
    leg: str | None
    created: datetime
    topic: str | None = None
