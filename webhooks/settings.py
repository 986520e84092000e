"""Settings for webhook delivery (targets, polling, retries)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class WebhookTarget(BaseModel):
    """One receiver: where events go, the secret they are signed with, and which events it wants."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., description="http(s) URL events are POSTed to.")
    secret: SecretStr = Field(..., min_length=1, description="HMAC-SHA256 key for X-Hotline-Signature.")
    events: list[str] = Field(default_factory=lambda: ["*"],
                              description="Event kinds to send: exact (interaction.created), prefix "
                                          "(interaction.*) or * for all.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) > 2048:
            raise ValueError("must be an http:// or https:// URL of at most 2048 characters")
        return value

    def wants(self, kind: str) -> bool:
        """Whether events of ``kind`` go to this target."""
        for pattern in self.events:
            if pattern in ("*", kind) or (pattern.endswith(".*") and kind.startswith(pattern[:-1])):
                return True
        return False


class WebhookSettings(BaseModel):
    """Webhook delivery through the transactional outbox."""

    model_config = ConfigDict(extra="forbid")

    targets: list[WebhookTarget] = Field(
        default_factory=list,
        description="Receivers: [{url, secret, events}]. Events are queued for the targets configured when "
                    "they happen.",
    )
    poll_interval_s: float = Field(1.0, gt=0, description="How often the worker looks for due deliveries.")
    max_attempts: int = Field(12, ge=1, description="Attempts before a delivery is marked failed.")
    backoff_base_s: float = Field(2.0, gt=0, description="Delay after the first failed attempt; doubles each time.")
    backoff_max_s: float = Field(900.0, gt=0, description="Longest delay between attempts (jitter included).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one POST.")
    batch_size: int = Field(20, ge=1, le=1000, description="Deliveries sent concurrently per poll.")

    @model_validator(mode="after")
    def _consistent(self) -> WebhookSettings:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff_max_s must be at least backoff_base_s")
        urls = [t.url for t in self.targets]
        if len(set(urls)) != len(urls):
            raise ValueError("two targets have the same url; list each receiver once")
        return self

    def targets_for(self, kind: str) -> list[WebhookTarget]:
        """The targets that want events of ``kind``."""
        return [t for t in self.targets if t.wants(kind)]

    def target(self, url: str) -> WebhookTarget | None:
        """The configured target with this URL, or None."""
        return next((t for t in self.targets if t.url == url), None)
