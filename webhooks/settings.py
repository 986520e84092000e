"""Settings for webhook delivery (targets, polling, retries).

What a configuration must meet is checked when it is loaded (:class:`WebhookSettings`, the ``webhooks``
section), so a server never starts with a weak one:

- **https only.** A target whose URL is ``http://`` is refused unless its host is listed in
  ``webhooks.allow_http_hosts``, which by default holds only the loopback names (``localhost``, ``127.0.0.1``,
  ``::1``): a receiver on the same machine, e.g. a local relay or a test receiver. Any other plain-http host
  must be listed there by name, one by one (no wildcards), which makes the exception explicit.
- **Long secrets.** Every target's secret has at least :data:`MIN_SECRET_LENGTH` (32) characters; the error says
  how to generate one.

A bare :class:`WebhookTarget` checks only its own shape (URL syntax, events), so code that builds targets
directly (the outbox tests) keeps working; the policy is the section's.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

MIN_SECRET_LENGTH = 32
GENERATE_SECRET_COMMAND = 'python -c "import secrets; print(secrets.token_hex(32))"'
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def url_host(url: str) -> str:
    """The host a URL connects to, as httpx (the sender) parses it: lower case, no brackets, no trailing dot."""
    return normal_host(httpx.URL(url).host)


def normal_host(host: str) -> str:
    """A host name or IP address compared case-insensitively, IPv6 without brackets, no trailing dot."""
    return host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


class WebhookTarget(BaseModel):
    """One receiver: where events go, the secret they are signed with, and which events it wants."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    url: str = Field(..., description="https URL events are POSTed to (http only for hosts in allow_http_hosts).")
    secret: SecretStr = Field(..., min_length=1,
                              description=f"HMAC-SHA256 key for X-Hotline-Signature; at least {MIN_SECRET_LENGTH} "
                                          f"characters (generate: {GENERATE_SECRET_COMMAND}).")
    events: list[str] = Field(default_factory=lambda: ["*"],
                              description="Event kinds to send: exact (interaction.created), prefix "
                                          "(interaction.*) or * for all.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) > 2048:
            raise ValueError("must be an http:// or https:// URL of at most 2048 characters")
        try:
            host = url_host(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if not host:
            raise ValueError("the URL has no host")
        return value

    @property
    def host(self) -> str:
        """The host deliveries connect to (normalised as :func:`normal_host`)."""
        return url_host(self.url)

    @property
    def plain_http(self) -> bool:
        """Whether deliveries go out unencrypted."""
        return self.url.startswith("http://")

    def wants(self, kind: str) -> bool:
        """Whether events of ``kind`` go to this target."""
        for pattern in self.events:
            if pattern in ("*", kind) or (pattern.endswith(".*") and kind.startswith(pattern[:-1])):
                return True
        return False


class WebhookSettings(BaseModel):
    """Webhook delivery through the transactional outbox."""

    # Errors never echo the input: it holds the targets' secrets.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    targets: list[WebhookTarget] = Field(
        default_factory=list,
        description="Receivers: [{url, secret, events}]. Events are queued for the targets configured when "
                    "they happen.",
    )
    allow_http_hosts: list[str] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description="Hosts a target may reach over plain http:// (exact names or IP addresses, no wildcards); "
                    "every other target must use https://. Default: loopback only; [] for https everywhere.",
    )
    poll_interval_s: float = Field(1.0, gt=0, description="How often the worker looks for due deliveries.")
    max_attempts: int = Field(12, ge=1, description="Attempts before a delivery is marked failed.")
    backoff_base_s: float = Field(2.0, gt=0, description="Delay after the first failed attempt; doubles each time.")
    backoff_max_s: float = Field(900.0, gt=0, description="Longest delay between attempts (jitter included).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one POST.")
    batch_size: int = Field(20, ge=1, le=1000, description="Deliveries sent concurrently per poll.")

    @field_validator("allow_http_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not normal_host(host) or any(c in host for c in "/@*?# \t"):
                raise ValueError(f"{host!r} is not a host name or IP address: list bare hosts such as "
                                 "crm.internal or 10.0.0.5 (no scheme, port, path or wildcard)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WebhookSettings:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff_max_s must be at least backoff_base_s")
        urls = [t.url for t in self.targets]
        if len(set(urls)) != len(urls):
            raise ValueError("two targets have the same url; list each receiver once")
        problems = [p for i, t in enumerate(self.targets) for p in self._target_problems(i, t)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _target_problems(self, index: int, target: WebhookTarget) -> list[str]:
        where = f"webhooks.targets[{index}] (host {target.host})"
        problems = []
        if target.plain_http and not self.http_allowed(target.host):
            allowed = ", ".join(self.allow_http_hosts) or "none"
            problems.append(f"{where}: plain http:// is refused, deliveries carry customer data and must use "
                            f"https://; to allow http to this host on purpose, add {target.host!r} to "
                            f"webhooks.allow_http_hosts (now: {allowed})")
        length = len(target.secret.get_secret_value())
        if length < MIN_SECRET_LENGTH:
            problems.append(f"{where}: the secret has {length} characters, at least {MIN_SECRET_LENGTH} are "
                            f"required; generate one with: {GENERATE_SECRET_COMMAND}")
        return problems

    def http_allowed(self, host: str) -> bool:
        """Whether a target on ``host`` may be reached over plain http."""
        return normal_host(host) in {normal_host(h) for h in self.allow_http_hosts}

    def targets_for(self, kind: str) -> list[WebhookTarget]:
        """The targets that want events of ``kind``."""
        return [t for t in self.targets if t.wants(kind)]

    def target(self, url: str) -> WebhookTarget | None:
        """The configured target with this URL, or None."""
        return next((t for t in self.targets if t.url == url), None)
