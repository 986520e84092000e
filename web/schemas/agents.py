"""Request bodies of the agents API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NewAgent(BaseModel):
    """An agent to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Display name.")
    username: str = Field(description="SIP user name of the agent's phone: 1-64 of A-Z a-z 0-9 . _ -")
    password: str = Field(description="At least 8 characters; used for SIP digest and the console login.")
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes, e.g. ['uk', 'ru'].")
    skills: list[str] = Field(default_factory=list, description="Lower-case slugs, e.g. ['cards', 'loans'].")


class AgentChanges(BaseModel):
    """Fields to change; a new username needs the password too (the SIP HA1 covers it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    username: str | None = None
    password: str | None = None
    languages: list[str] | None = None
    skills: list[str] | None = None


class StatusChange(BaseModel):
    """What an agent asks to be; calls drive ringing, on-call and wrap-up."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["available", "away", "offline"]
