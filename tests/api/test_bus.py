"""The per-call event bus: ids, replay, close sentinel, pruning."""

from __future__ import annotations

import asyncio

import pytest

from calls.bus import EventBus


def _drain(q: asyncio.Queue) -> list[dict]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_publish_ids_increase_per_call():
    bus = EventBus()
    a = [bus.publish("a", "state", state=s)["id"] for s in ("offered", "connected", "ended")]
    b = [bus.publish("b", "partial", text=t)["id"] for t in ("x", "y")]
    assert a == [1, 2, 3]
    assert b == [1, 2]
    event = bus.publish("a", "dtmf", digit="5")
    assert {k: event[k] for k in ("id", "call_id", "type", "digit")} == {"id": 4, "call_id": "a", "type": "dtmf",
                                                                         "digit": "5"}
    assert isinstance(event["ts"], float)


def test_subscribe_after_replays_only_later_events():
    bus = EventBus()
    for i in range(5):
        bus.publish("c", "partial", text=str(i))
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
    bus.publish("c", "state", state="offered")
    backlog, q, _ = bus.subscribe("c")
    assert [e["id"] for e in backlog] == [1]
    bus.publish("c", "state", state="connected")
    bus.publish("other", "state", state="offered")  # another call's events stay there
    assert [(e["id"], e["state"]) for e in _drain(q)] == [(2, "connected")]
    bus.unsubscribe("c", q)
    bus.publish("c", "final", text="hi")
    assert _drain(q) == []


def test_close_sends_the_closed_sentinel():
    bus = EventBus()
    bus.publish("c", "state", state="offered")
    _, q1, _ = bus.subscribe("c")
    _, q2, _ = bus.subscribe("c", after=1)
    bus.publish("c", "state", state="ended")
    bus.close("c")
    for q in (q1, q2):
        got = _drain(q)
        assert [e["type"] for e in got] == ["state", "_closed"]
        assert got[0]["state"] == "ended"
    backlog, q3, ended = bus.subscribe("c")
    assert ended is True
    assert [e["state"] for e in backlog] == ["offered", "ended"]
    assert q3.empty()  # a late subscriber learns the end from ``ended``, not from the queue
    bus.close("unknown")  # closing an unknown call is a no-op
    assert not bus.known("unknown")


def test_ended_channels_beyond_keep_ended_are_pruned():
    bus = EventBus(keep_ended=2)
    for cid in ("a", "b", "c", "d"):
        bus.publish(cid, "state", state="offered")
    bus.publish("live", "state", state="offered")
    for cid in ("a", "b", "c", "d"):
        bus.close(cid)
    assert [cid for cid in ("a", "b", "c", "d", "live") if bus.known(cid)] == ["c", "d", "live"]
    backlog, _, ended = bus.subscribe("d")
    assert ended and [e["state"] for e in backlog] == ["offered"]


def test_ended_channel_with_a_subscriber_is_kept_until_next_prune():
    bus = EventBus(keep_ended=1)
    bus.publish("a", "state", state="offered")
    _, qa, _ = bus.subscribe("a")
    bus.close("a")
    bus.publish("b", "state", state="offered")
    bus.close("b")
    assert bus.known("a") and bus.known("b")  # "a" still has a reader
    bus.unsubscribe("a", qa)
    bus.publish("c", "state", state="offered")
    bus.close("c")
    assert [cid for cid in ("a", "b", "c") if bus.known(cid)] == ["c"]


def test_open_channels_are_never_pruned():
    bus = EventBus(keep_ended=0)
    bus.publish("open", "state", state="connected")
    bus.publish("done", "state", state="offered")
    bus.close("done")
    assert bus.known("open")
    assert not bus.known("done")


def test_event_data_cannot_overwrite_bus_fields():
    from calls.bus import ReservedEventFieldError

    bus = EventBus()
    with pytest.raises(ReservedEventFieldError) as err:
        bus.publish("c1", "hint", id="kb:card-lost", title="x")
    assert err.value.fields == frozenset({"id"}) and err.value.kind == "hint"
    assert bus.history("c1") == []  # nothing half-published
    assert bus.publish("c1", "hint", hint_id="kb:card-lost")["id"] == 1
