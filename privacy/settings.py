"""Privacy settings (composed into the main settings as ``privacy``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from privacy.model import Kind


class PrivacySettings(BaseModel):
    """Who may read transcripts unredacted, and what redaction hides from everyone else."""

    model_config = ConfigDict(extra="forbid")

    raw_transcript_roles: list[str] = Field(
        default_factory=lambda: ["security", "admin"],
        description="Roles that may read unredacted transcripts by asking with ?raw=true; everyone else, and "
        "these roles without raw=true, get redacted text.")
    redact_kinds: list[Kind] = Field(
        default_factory=lambda: list(Kind),
        description="What redaction hides: card (Luhn-valid 13-19 digits), phone, email, iban (mod-97 checked), "
        "number (7+ digits still being dictated at the end of a live partial hypothesis).")

    @field_validator("raw_transcript_roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        from core.roles import ROLES  # late: the store pulls in SQLAlchemy, settings should not need it

        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown roles {unknown}; roles: {', '.join(ROLES)}")
        return roles

    @property
    def kinds(self) -> frozenset[Kind]:
        """``redact_kinds`` as a set."""
        return frozenset(self.redact_kinds)
