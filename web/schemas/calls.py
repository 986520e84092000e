"""Request bodies of the call API: claimed customer, transfer, consult, wrap-up."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from web.params import NOT_BLANK

TAG_MAX = 64
Id = Annotated[str, Field(min_length=1, max_length=64)]
Tag = Annotated[str, Field(max_length=TAG_MAX, pattern=NOT_BLANK, description="A short label (not blank).")]


class ClaimedCustomer(BaseModel):
    """The customer an agent says the caller is."""

    customer_id: Id


class TransferRequest(BaseModel):
    """Where to send the caller: one agent, or a queue."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["agent_id"], "not": {"required": ["queue"]}},
                  {"required": ["queue"], "not": {"required": ["agent_id"]}}]})

    agent_id: Id = Field(None, description="The agent to send the caller to (or give queue).")  # type: ignore[assignment]
    queue: Id = Field(None, description="The queue to send the caller to (or give agent_id).")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one(self) -> TransferRequest:
        if (self.agent_id is None) == (self.queue is None):
            raise ValueError("give exactly one of agent_id or queue")
        return self


class ConsultRequest(BaseModel):
    """The agent to consult."""

    agent_id: Id


class WrapUp(BaseModel):
    """What the agent files after a call."""

    model_config = ConfigDict(extra="forbid")

    tags: list[Tag] = Field(default_factory=list, max_length=50, description="Short labels, e.g. ['card', 'limit'].")
    outcome: str = Field(..., min_length=1, max_length=64, description="e.g. resolved, follow_up, escalated.")
    notes: str | None = Field(None, max_length=20_000)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        out: list[str] = []
        for tag in (t.strip() for t in tags):
            if not tag or len(tag) > TAG_MAX:
                raise ValueError(f"a tag is 1 to {TAG_MAX} characters")
            if tag not in out:
                out.append(tag)
        return out
