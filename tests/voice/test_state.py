"""The call state machine."""

from __future__ import annotations

import pytest

from voice.state import CallState, CallStateMachine, IllegalTransitionError

S = CallState


def test_starts_offered():
    sm = CallStateMachine("c1")
    assert sm.state is S.OFFERED
    assert sm.call_id == "c1"


def test_legal_path_through_hold():
    sm = CallStateMachine("c1")
    path = [S.RINGING, S.ANSWERED, S.CONNECTED, S.HELD, S.CONNECTED, S.ENDED]
    seen = []
    for wanted in path:
        assert sm.can(wanted)
        sm.to(wanted)
        seen.append(sm.state)
    assert seen == path
    assert [str(s) for s in seen] == ["ringing", "answered", "connected", "held", "connected", "ended"]


def test_answer_without_ringing():
    sm = CallStateMachine("c1")
    sm.to(S.ANSWERED)
    sm.to(S.CONNECTED)
    assert sm.state is S.CONNECTED


@pytest.mark.parametrize("start", [S.OFFERED, S.RINGING, S.ANSWERED, S.CONNECTED, S.HELD])
def test_every_live_state_can_end(start):
    sm = CallStateMachine("c1")
    sm.state = start
    sm.to(S.ENDED)
    assert sm.state is S.ENDED


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ([], S.CONNECTED),  # ACK-less connect
        ([], S.HELD),
        ([], S.OFFERED),
        ([S.RINGING], S.RINGING),
        ([S.RINGING], S.CONNECTED),
        ([S.ANSWERED], S.HELD),
        ([S.ANSWERED], S.RINGING),
        ([S.ANSWERED, S.CONNECTED], S.ANSWERED),
        ([S.ANSWERED, S.CONNECTED], S.CONNECTED),
        ([S.ANSWERED, S.CONNECTED, S.HELD], S.HELD),
        ([S.ANSWERED, S.CONNECTED, S.HELD], S.ANSWERED),
    ],
)
def test_illegal_transitions_raise(path, wanted):
    sm = CallStateMachine("call-42")
    for step in path:
        sm.to(step)
    before = sm.state
    assert not sm.can(wanted)
    with pytest.raises(IllegalTransitionError) as err:
        sm.to(wanted)
    assert (err.value.call_id, err.value.current, err.value.wanted) == ("call-42", before, wanted)
    assert f"call call-42: cannot go from {before} to {wanted}" == str(err.value)
    assert sm.state is before  # a refused transition changes nothing


@pytest.mark.parametrize("wanted", list(CallState))
def test_ended_is_terminal(wanted):
    sm = CallStateMachine("c9")
    sm.to(S.ENDED)
    assert not sm.can(wanted)
    with pytest.raises(IllegalTransitionError) as err:
        sm.to(wanted)
    assert err.value.current is S.ENDED
    assert sm.state is S.ENDED
