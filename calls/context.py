"""What every per-call service and API handler shares, passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from asr.settings import AsrSettings
from asr.vosk_engine import VoskEngine
from callcenter.board import AgentBoard
from callcenter.settings import RoutingSettings
from calls.bus import EventBus
from core.metrics import Metrics
from media.ports import PortAllocator
from media.prompt import Prompt
from media.settings import MediaSettings
from privacy.settings import PrivacySettings
from store.store import Store
from voice.settings import SipSettings

if TYPE_CHECKING:
    from callcenter.announce import Announcer
    from callcenter.router import Router
    from hints import HintEngine
    from verification.voiceprints import Voiceprints
    from voice.registrar import Registrar
    from voice.stack import SipStack


class CallSettings(Protocol):
    """The settings a call and the API handlers read (``app.config.Settings`` is one)."""

    @property
    def media(self) -> MediaSettings: ...
    @property
    def sip(self) -> SipSettings: ...
    @property
    def asr(self) -> AsrSettings: ...
    @property
    def routing(self) -> RoutingSettings: ...
    @property
    def privacy(self) -> PrivacySettings: ...


@dataclass
class AppContext:
    """Long-lived parts of a running Hotline."""

    settings: CallSettings
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
