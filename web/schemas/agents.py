"""Request bodies of the agents API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from callcenter.agents import LANGUAGES, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, SKILL_MAX
from web.params import NOT_BLANK

# the directory's rules (callcenter/agents.py), written into the schema so clients know them up front
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK, description="Display name.")]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$",
                                description="SIP user name of the agent's phone: 1-64 of A-Z a-z 0-9 . _ -")]
Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX,
                                description="Used for SIP digest and the console login.")]
Language = Annotated[str, Field(json_schema_extra={"enum": sorted(LANGUAGES)}, description="ISO 639-1 code.")]
Skill = Annotated[str, Field(max_length=SKILL_MAX, pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
                             description="Lower-case slug, e.g. car-loans.")]


class NewAgent(BaseModel):
    """An agent to create."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    username: Username
    password: Password
    languages: list[Language] = Field(default_factory=list, max_length=50, description="e.g. ['uk', 'ru'].")
    skills: list[Skill] = Field(default_factory=list, max_length=100, description="e.g. ['cards', 'loans'].")


class AgentChanges(BaseModel):
    """Fields to change; a new username needs the password too (the SIP HA1 covers it)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    username: Username | None = None
    password: Password | None = None
    languages: list[Language] | None = Field(None, max_length=50)
    skills: list[Skill] | None = Field(None, max_length=100)


class StatusChange(BaseModel):
    """What an agent asks to be; calls drive ringing, on-call and wrap-up."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["available", "away", "offline"]
