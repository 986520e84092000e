"""The per-call event bus: ids, replay, close sentinel, pruning."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest
from pydantic import ValidationError

from calls.bus import CLOSED, ChannelClosed, EventBus
from core.events import (
    CALL_EVENTS,
    CallEventModel,
    CallStateChanged,
    Dtmf,
    EnvelopeFieldError,
    FinalSegment,
    HintShown,
    PartialSegment,
)


def _drain(q: asyncio.Queue) -> list[dict]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_publish_ids_increase_per_call():
    bus = EventBus()
    a = [bus.publish("a", CallStateChanged(state=s))["id"] for s in ("offered", "connected", "ended")]
    b = [bus.publish("b", PartialSegment(leg="caller", text=t))["id"] for t in ("x", "y")]
    assert a == [1, 2, 3]
    assert b == [1, 2]
    event = bus.publish("a", Dtmf(digit="5", at=1.5))
    assert {k: event[k] for k in ("id", "call_id", "type", "digit")} == {"id": 4, "call_id": "a", "type": "dtmf",
                                                                         "digit": "5"}
    assert isinstance(event["ts"], float)


def test_subscribe_after_replays_only_later_events():
    bus = EventBus()
    for i in range(5):
        bus.publish("c", PartialSegment(leg="caller", text=str(i)))
    backlog, q, ended = bus.subscribe("c", after=3)
    assert [e["id"] for e in backlog] == [4, 5]
    assert [e["text"] for e in backlog] == ["3", "4"]
    assert ended is False
    assert q.empty()
    full, _, _ = bus.subscribe("c")
    assert [e["id"] for e in full] == [1, 2, 3, 4, 5]
    beyond, _, _ = bus.subscribe("c", after=5)
    assert beyond == []


def test_live_events_reach_subscribers_after_backlog():
    bus = EventBus()
    bus.publish("c", CallStateChanged(state="offered"))
    backlog, q, _ = bus.subscribe("c")
    assert [e["id"] for e in backlog] == [1]
    bus.publish("c", CallStateChanged(state="connected"))
    bus.publish("other", CallStateChanged(state="offered"))  # another call's events stay there
    assert [(e["id"], e["state"]) for e in _drain(q)] == [(2, "connected")]
    bus.unsubscribe("c", q)
    bus.publish("c", FinalSegment(leg="caller", start=0.0, end=1.0, text="hi", confidence=1.0))
    assert _drain(q) == []


def test_close_sends_the_closed_sentinel():
    bus = EventBus()
    bus.publish("c", CallStateChanged(state="offered"))
    _, q1, _ = bus.subscribe("c")
    _, q2, _ = bus.subscribe("c", after=1)
    bus.publish("c", CallStateChanged(state="ended"))
    bus.close("c")
    for q in (q1, q2):
        got = _drain(q)
        assert got[0]["type"] == "state" and got[0]["state"] == "ended"
        assert got[1:] == [CLOSED] and isinstance(got[1], ChannelClosed)
    backlog, q3, ended = bus.subscribe("c")
    assert ended is True
    assert [e["state"] for e in backlog] == ["offered", "ended"]
    assert q3.empty()  # a late subscriber learns the end from ``ended``, not from the queue
    bus.close("unknown")  # closing an unknown call is a no-op
    assert not bus.known("unknown")


def test_ended_channels_beyond_keep_ended_are_pruned():
    bus = EventBus(keep_ended=2)
    for cid in ("a", "b", "c", "d"):
        bus.publish(cid, CallStateChanged(state="offered"))
    bus.publish("live", CallStateChanged(state="offered"))
    for cid in ("a", "b", "c", "d"):
        bus.close(cid)
    assert [cid for cid in ("a", "b", "c", "d", "live") if bus.known(cid)] == ["c", "d", "live"]
    backlog, _, ended = bus.subscribe("d")
    assert ended and [e["state"] for e in backlog] == ["offered"]


def test_ended_channel_with_a_subscriber_is_kept_until_next_prune():
    bus = EventBus(keep_ended=1)
    bus.publish("a", CallStateChanged(state="offered"))
    _, qa, _ = bus.subscribe("a")
    bus.close("a")
    bus.publish("b", CallStateChanged(state="offered"))
    bus.close("b")
    assert bus.known("a") and bus.known("b")  # "a" still has a reader
    bus.unsubscribe("a", qa)
    bus.publish("c", CallStateChanged(state="offered"))
    bus.close("c")
    assert [cid for cid in ("a", "b", "c") if bus.known(cid)] == ["c"]


def test_open_channels_are_never_pruned():
    bus = EventBus(keep_ended=0)
    bus.publish("open", CallStateChanged(state="connected"))
    bus.publish("done", CallStateChanged(state="offered"))
    bus.close("done")
    assert bus.known("open")
    assert not bus.known("done")


def test_an_event_model_may_not_declare_envelope_fields():
    with pytest.raises(EnvelopeFieldError) as err:

        class Sneaky(CallEventModel):  # would overwrite the bus's sequence id
            type: Literal["sneaky"] = "sneaky"
            id: str

    assert err.value.fields == frozenset({"id"}) and err.value.model == "Sneaky"


def test_the_envelope_carries_the_event_fields_given_and_no_others():
    bus = EventBus()
    ended = bus.publish("c1", CallStateChanged(state="ended", reason="caller_hangup"))
    assert {k: v for k, v in ended.items() if k != "ts"} == {"id": 1, "call_id": "c1", "type": "state",
                                                             "state": "ended", "reason": "caller_hangup"}
    hint = bus.publish("c1", HintShown(hint_id="kb:card-lost", hint_kind="kb", title="Card lost", text="Block it",
                                       link=None, confidence=0.9, why="card", leg="caller", topic="cards",
                                       created="2026-12-07T10:00:00+00:00"))
    assert hint["id"] == 2 and hint["hint_id"] == "kb:card-lost" and hint["link"] is None


def test_event_data_parses_back_into_its_model():
    event = Dtmf(digit="5", at=1.5, leg="agent")
    assert CALL_EVENTS.validate_python(event.data()) == event
    with pytest.raises(ValidationError):
        CALL_EVENTS.validate_python({"type": "dtmf", "digit": "5"})  # at is missing
    with pytest.raises(ValidationError):
        CALL_EVENTS.validate_python({"type": "no_such_event"})
