"""Call events: what happens on a call, one typed model per kind.

Every event has a ``type`` (a Literal: the discriminator) and typed fields. The call service and its
collaborators build them; the event bus (:mod:`calls.bus`) wraps each in an envelope (``id``, ``call_id``,
``ts``) for the call WebSocket and the console feed, and the call timeline stores the same fields. A field
that was not given is left out of :meth:`CallEventModel.data` (a ``state`` event of an ended call has a
``reason`` and no ``codec``), so the wire format is exactly what the producer said.

Webhooks carry the customer profile's events (:data:`WEBHOOK_KINDS`, built in :mod:`profiles.events`); call
events reach CRMs through the interaction that the call hands to the timeline at hang-up.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# Keys the bus's envelope owns: no event may have a field by these names.
ENVELOPE_KEYS = frozenset({"id", "call_id", "ts", "type"})
WebhookKind = Literal["interaction.created", "interaction.updated", "case.created", "case.updated",
                      "customer.merged"]
WEBHOOK_KINDS: tuple[WebhookKind, ...] = ("interaction.created", "interaction.updated", "case.created",
                                          "case.updated", "customer.merged")


class EnvelopeFieldError(TypeError):
    """An event model declares a field that the bus's envelope owns."""

    def __init__(self, model: str, fields: frozenset[str]) -> None:
        super().__init__(f"{model} may not declare {', '.join(sorted(fields))}: the bus's envelope owns them")
        self.model = model
        self.fields = fields


class CallEventModel(BaseModel):
    """Base of every call event: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    type: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        clash = ENVELOPE_KEYS.intersection(n for n in cls.model_fields if n != "type")
        if clash:
            raise EnvelopeFieldError(cls.__name__, frozenset(clash))

    def data(self) -> dict[str, Any]:
        """JSON-ready fields, ``type`` first; fields the producer did not give are left out."""
        return {"type": self.type, **self.fields()}

    def fields(self) -> dict[str, Any]:
        """JSON-ready fields without ``type`` (as the call timeline stores them)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"type"})


# -- the call itself ------------------------------------------------------------------------------------------
class CallStateChanged(CallEventModel):
    """The call was offered (INVITE), connected (ACK) or ended. ``number_trust`` (offered): whether the caller's
    number was asserted by a trusted peer, came from a trusted peer's From, or is ``unverified``."""

    type: Literal["state"] = "state"
    state: Literal["offered", "connected", "ended"]
    caller: str | None = None
    called: str | None = None
    number_trust: Literal["asserted", "peer", "unverified"] | None = None
    codec: str | None = None
    reason: str | None = None


class MediaStarted(CallEventModel):
    """The caller's first audio arrived (wall clock, seconds)."""

    type: Literal["media"] = "media"
    first_frame_at: float


class RecognitionStatus(CallEventModel):
    """Whether the call is transcribed: ``ok``, ``off``, ``unavailable`` (with the reason) or ``failed``."""

    type: Literal["recognition"] = "recognition"
    status: Literal["ok", "off", "unavailable", "failed"]
    note: str | None = None


class Dtmf(CallEventModel):
    """A key pressed (``leg`` is ``agent`` for the agent's phone; absent for the caller)."""

    type: Literal["dtmf"] = "dtmf"
    digit: str
    at: float
    leg: str | None = None


class Hold(CallEventModel):
    """The caller put the call on hold (re-INVITE)."""

    type: Literal["hold"] = "hold"


class Unhold(CallEventModel):
    """The caller took the call off hold."""

    type: Literal["unhold"] = "unhold"


# -- speech ---------------------------------------------------------------------------------------------------
class Word(BaseModel):
    """One recognized word with its times (seconds from the leg's start) and confidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    word: str
    start: float
    end: float
    conf: float


class PartialSegment(CallEventModel):
    """Words of an utterance still being spoken (replaced by its final)."""

    type: Literal["partial"] = "partial"
    leg: str
    text: str


class FinalSegment(CallEventModel):
    """An utterance's final text, stored before it is published."""

    type: Literal["final"] = "final"
    leg: str
    start: float
    end: float
    text: str
    confidence: float
    words: list[Word] = Field(default_factory=list)


class ReasonHeard(CallEventModel):
    """What the caller said while queued, all of it so far: the call's reason."""

    type: Literal["reason"] = "reason"
    text: str


# -- identity and profile ---------------------------------------------------------------------------------------
class CustomerClaimed(CallEventModel):
    """The customer the caller claims to be (None: nobody matched), and who said so."""

    type: Literal["customer"] = "customer"
    customer_id: str | None
    reason: str
    by: str


class VerificationResult(CallEventModel):
    """A passive voiceprint check of the caller against the claimed customer."""

    type: Literal["verification"] = "verification"
    decision: str
    score: float | None = None
    threshold: float | None = None
    net_speech_s: float = 0.0
    customer_id: str | None = None
    model_id: str | None = None
    final: bool = False
    check: int = 0
    risk: Literal["low", "medium", "high"] | None = None
    reasons: list[str] = Field(default_factory=list)
    reason: str | None = None  # why there is no score (unavailable, too little speech)


class CustomerProfileShown(CallEventModel):
    """The customer card for the agent, and the interaction the call is on the timeline as."""

    type: Literal["customer_profile"] = "customer_profile"
    interaction_id: str
    customer_id: str
    name: str
    provisional: bool
    flags: list[str]
    segment: str | None
    language: str | None


class HintShown(CallEventModel):
    """A whispered hint for the agent (``hint_id`` and ``hint_kind``: the envelope has ``id``)."""

    type: Literal["hint"] = "hint"
    hint_id: str
    hint_kind: str
    title: str
    text: str
    link: str | None
    confidence: float
    why: str
    leg: str | None
    topic: str | None
    created: str


class ReasonPredicted(CallEventModel):
    """The likely reason for the call and its evidence."""

    type: Literal["predicted_reason"] = "predicted_reason"
    topic: str
    confidence: float
    source: str
    why: str


# -- routing ----------------------------------------------------------------------------------------------------
class Queued(CallEventModel):
    """The caller joined a queue."""

    type: Literal["queued"] = "queued"
    queue: str
    priority: int
    position: int | None


class Announced(CallEventModel):
    """The caller heard their place in the queue and the expected wait."""

    type: Literal["announced"] = "announced"
    position: int
    expected_wait_min: int


class Overflowed(CallEventModel):
    """The caller moved to the overflow queue."""

    type: Literal["overflow"] = "overflow"
    from_queue: str = Field(alias="from")
    to: str


class Offered(CallEventModel):
    """An agent's phone rings for this caller."""

    type: Literal["offered"] = "offered"
    agent_id: str
    agent_name: str


class OfferMissed(CallEventModel):
    """An offer ended without an answer: ``no_answer`` (timeout) or ``offer_failed`` (SIP code, detail)."""

    type: Literal["no_answer", "offer_failed"]
    agent_id: str
    code: int
    detail: str


class AgentConnected(CallEventModel):
    """The agent answered and the legs are bridged (``bridge``: relay or transcode)."""

    type: Literal["agent_connected"] = "agent_connected"
    agent_id: str
    agent_name: str
    bridge: str
    wait_s: float
    time_to_agent_s: float
    connected_at: float


class AgentHungUp(CallEventModel):
    """The agent's phone hung up (the call ends)."""

    type: Literal["agent_hangup"] = "agent_hangup"
    agent_id: str


class Abandoned(CallEventModel):
    """The caller hung up before reaching an agent."""

    type: Literal["abandoned"] = "abandoned"
    wait_s: float
    queued: bool


class Transferred(CallEventModel):
    """The caller was transferred: blind (to a queue or agent, ``target``) or by consult (``how``)."""

    type: Literal["transferred"] = "transferred"
    by: str
    queue: str | None
    agent_id: str | None
    from_agent: str | None
    target: str | None = None
    how: str | None = None


class ConsultRequested(CallEventModel):
    """A warm transfer to ``agent_id`` was asked for."""

    type: Literal["consult_requested"] = "consult_requested"
    by: str
    agent_id: str


class ConsultStarted(CallEventModel):
    """The consulted agent's phone rings; the caller holds."""

    type: Literal["consult_started"] = "consult_started"
    agent_id: str
    from_agent: str


class ConsultConnected(CallEventModel):
    """The two agents talk."""

    type: Literal["consult_connected"] = "consult_connected"
    agent_id: str
    bridge: str


class ConsultFailed(CallEventModel):
    """The consulted agent did not answer (``result``); the caller is back with the first agent."""

    type: Literal["consult_failed"] = "consult_failed"
    agent_id: str
    result: str


class ConsultCancelled(CallEventModel):
    """The consultation was cancelled; the caller is back with the first agent."""

    type: Literal["consult_cancelled"] = "consult_cancelled"
    by: str
    agent_id: str


CallEvent = Annotated[
    CallStateChanged | MediaStarted | RecognitionStatus | Dtmf | Hold | Unhold | PartialSegment
    | FinalSegment | ReasonHeard | CustomerClaimed | VerificationResult | CustomerProfileShown | HintShown
    | ReasonPredicted | Queued | Announced | Overflowed | Offered | OfferMissed | AgentConnected | AgentHungUp
    | Abandoned | Transferred | ConsultRequested | ConsultStarted | ConsultConnected | ConsultFailed
    | ConsultCancelled,
    Field(discriminator="type"),
]
CALL_EVENTS: TypeAdapter[CallEvent] = TypeAdapter(CallEvent)  # parse an event's data back into its model


class PresenceChanged(BaseModel):
    """An agent's presence moved (the console feed's own event, not a call event)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["presence"] = "presence"
    agent_id: str
    state: str
    call_id: str | None

    def data(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return self.model_dump(mode="json")
