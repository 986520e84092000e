"""What every per-call service and API handler shares, passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.board import AgentBoard
from api.bus import EventBus
from api.config import Settings
from api.metrics import Metrics
from api.store import Store
from asr.vosk_engine import VoskEngine
from media.ports import PortAllocator
from media.prompt import Prompt

if TYPE_CHECKING:
    from api.announce import Announcer
    from api.router import Router
    from api.voiceprints import Voiceprints
    from hints import HintEngine
    from voice.registrar import Registrar
    from voice.stack import SipStack


@dataclass
class AppContext:
    """Long-lived parts of a running Hotline."""

    settings: Settings
    store: Store
    bus: EventBus
    metrics: Metrics
    ports: PortAllocator
    engine: VoskEngine | None = None
    engine_note: str | None = None  # why recognition is unavailable, when it is
    greeting: Prompt | None = None
    voiceprints: Voiceprints | None = None
    voiceprint_note: str | None = None  # why biometrics are unavailable, when they are
    active: dict[str, Any] = field(default_factory=dict)  # call id -> CallService
    board: AgentBoard = field(default_factory=AgentBoard)  # live presence of every agent
    on_agents_changed: Callable[[], None] | None = None  # called after agents are added, changed or removed
    router: Router | None = None  # None: routing disabled (calls are answered and transcribed only)
    registrar: Registrar | None = None
    sip: SipStack | None = None
    moh: Prompt | None = None
    hints: HintEngine | None = None
    announcer: Announcer | None = None

    def language_for(self, called: str | None) -> str:
        """Recognition language for a called number (DID)."""
        if called and called in self.settings.asr.did_languages:
            return self.settings.asr.did_languages[called]
        return self.settings.asr.language
