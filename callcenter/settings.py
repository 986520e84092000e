"""Settings for queues and routing callers to agents."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from media.paths import DEFAULT_MOH


class QueueSettings(BaseModel):
    """One queue: which called numbers land in it and who may serve it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Queue name (also dialable by REFER).")
    numbers: list[str] = Field(default_factory=list, description="Called numbers (E.164 or as dialled) of this queue.")
    language: str | None = Field(None, description="Language agents must speak (None: any).")
    skills: list[str] = Field(default_factory=list, description="Skills an agent needs to take these calls.")
    max_wait_s: float = Field(300.0, gt=0, description="After this wait the caller moves to the overflow queue.")
    overflow: str | None = Field(None, description="Queue a caller moves to after max_wait_s (None: keep waiting).")


class RoutingSettings(BaseModel):
    """How callers wait and reach agents."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Queue callers and bridge them to agents (off: answer and transcribe).")
    queues: list[QueueSettings] = Field(
        default_factory=lambda: [QueueSettings(name="general")],
        description="Queues; a call goes to the queue listing its called number, else to default_queue.",
    )
    default_queue: str = Field("general", description="Queue for called numbers no queue lists.")
    no_answer_s: float = Field(15.0, gt=0, description="Ring an agent this long before trying the next one.")
    max_misses: int = Field(2, ge=1, description="Unanswered offers in a row after which an agent is set away.")
    wrap_up_s: float = Field(10.0, ge=0, description="After-call work before the agent gets the next call.")
    priority_flags: list[str] = Field(default_factory=lambda: ["vip"],
                                      description="Customer flags that put a caller ahead of unflagged callers.")
    moh_file: Path | None = Field(DEFAULT_MOH,
                                  description="Music on hold while queued (WAV/FLAC); None: silence.")
    greeting_text: str | None = Field(
        None, description="Greeting spoken by espeak-ng at start-up in greeting_voice; replaces media.greeting. "
                          "Keep it to one short sentence inviting the caller to say what they need.")
    greeting_voice: str = Field("uk", description="espeak-ng voice (language code) of greeting_text.")
    announce_every_s: float = Field(0.0, ge=0,
                                    description="Position/expected-wait announcement period (0: off; needs espeak-ng).")
    announce_text: dict[str, str] = Field(
        default_factory=lambda: {
            "uk": "Ви {position} у черзі. Орієнтовний час очікування {minutes} хв.",
            "ru": "Вы {position} в очереди. Примерное время ожидания {minutes} мин.",
            "en": "You are number {position} in the queue. The expected wait is about {minutes} minutes.",
        },
        description="Announcement per language ({position}, {minutes}); other languages use the English one.")
    announce_cache_dir: Path = Field(Path("data/announcements"), description="Where spoken announcements are kept.")
    service_level_s: float = Field(20.0, gt=0, description="Service level: share of callers answered within this.")
    agent_caller_id: str = Field("hotline", description="From user of the INVITE to agent phones.")

    @model_validator(mode="after")
    def _check(self) -> RoutingSettings:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate queue names in {names}")
        if self.default_queue not in names:
            raise ValueError(f"default_queue {self.default_queue!r} is not one of the queues {names}")
        for q in self.queues:
            if q.overflow is not None and q.overflow not in names:
                raise ValueError(f"queue {q.name!r}: overflow {q.overflow!r} is not a queue")
        return self

    def queue(self, name: str) -> QueueSettings | None:
        """The queue called ``name``."""
        return next((q for q in self.queues if q.name == name), None)

    def queue_for(self, called: str | None) -> QueueSettings:
        """The queue for a called number."""
        for q in self.queues:
            if called and called in q.numbers:
                return q
        found = self.queue(self.default_queue)
        assert found is not None
        return found
