"""Agent presence (state machine) and the agent board, with a hand-driven clock."""

from __future__ import annotations

import itertools

import pytest

from callcenter.board import AgentBoard, AgentInfo, UnknownAgentError
from callcenter.presence import AgentPresence, AgentState, IllegalAgentTransitionError

S = AgentState
# the rules as the product describes them, written out independently of callcenter.presence
EXPECTED = {
    (S.OFFLINE, S.AVAILABLE), (S.OFFLINE, S.AWAY),
    (S.AVAILABLE, S.RINGING), (S.AVAILABLE, S.AWAY), (S.AVAILABLE, S.OFFLINE),
    (S.RINGING, S.ON_CALL), (S.RINGING, S.AVAILABLE), (S.RINGING, S.AWAY), (S.RINGING, S.OFFLINE),
    (S.ON_CALL, S.WRAP_UP), (S.ON_CALL, S.OFFLINE),
    (S.WRAP_UP, S.AVAILABLE), (S.WRAP_UP, S.AWAY), (S.WRAP_UP, S.OFFLINE),
    (S.AWAY, S.AVAILABLE), (S.AWAY, S.OFFLINE),
}


class Clock:
    """Seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def presence(state: AgentState = S.OFFLINE) -> AgentPresence:
    return AgentPresence("a1", "Olena", "olena", ("uk",), ("cards",), state=state)


@pytest.mark.parametrize(("start", "wanted"), list(itertools.permutations(S, 2)),
                         ids=lambda s: str(s))
def test_every_transition_is_allowed_or_refused_as_specified(start, wanted):
    agent = presence(start)
    assert agent.can(wanted) == ((start, wanted) in EXPECTED)
    if (start, wanted) in EXPECTED:
        agent.to(wanted, 5.0)
        assert (agent.state, agent.since, agent.history[-1]) == (wanted, 5.0, (5.0, wanted))
    else:
        with pytest.raises(IllegalAgentTransitionError) as err:
            agent.to(wanted, 5.0, "because")
        exc = err.value
        assert (exc.agent_id, exc.current, exc.wanted, exc.reason) == ("a1", start, wanted, "because")
        assert str(exc) == f"agent a1: cannot go from {start} to {wanted}: because"
        assert (agent.state, agent.since, agent.history) == (start, 0.0, [])


def test_same_state_is_a_no_op():
    agent = presence(S.AWAY)
    agent.to(S.AWAY, 9.0)
    assert (agent.since, agent.history) == (0.0, [])


def test_becoming_available_starts_idle_time_and_clears_the_call():
    agent = presence(S.ON_CALL)
    agent.call_id = "c1"
    agent.to(S.WRAP_UP, 10.0)
    assert agent.call_id == "c1"  # wrap-up still belongs to the call
    agent.to(S.AVAILABLE, 12.0)
    assert (agent.idle_since, agent.call_id) == (12.0, None)


def test_history_keeps_the_last_twenty_changes():
    agent = presence(S.AVAILABLE)
    for n in range(30):
        agent.to(S.AWAY if n % 2 == 0 else S.AVAILABLE, float(n))
    assert len(agent.history) == 20
    assert agent.history[-1] == (29.0, S.AVAILABLE)


def test_has_language_and_every_skill():
    agent = AgentPresence("a", "A", "a", ("uk", "ru"), ("cards", "loans"))
    assert agent.has("uk", ("cards",)) and agent.has(None, ("cards", "loans"))
    assert not agent.has("en", ())
    assert not agent.has("uk", ("cards", "mortgage"))
    assert AgentPresence("b", "B", "b").has("en", ())  # no languages listed: any


@pytest.fixture
def board() -> tuple[AgentBoard, Clock]:
    clock = Clock()
    b = AgentBoard(clock)
    b.sync(AgentInfo("a1", "Olena", "olena", ("uk",), ("cards",)))
    b.sync(AgentInfo("a2", "Petro", "petro", ("uk", "ru"), ("cards", "loans")))
    return b, clock


def test_sync_adds_offline_and_refreshes_without_losing_state(board):
    b, _ = board
    assert b.get("a1").state == S.OFFLINE and b.get("a1").since == 100.0
    b.registered("olena", True)
    b.sync(AgentInfo("a1", "Olena K", "olena.k", ("uk", "en"), ()))
    agent = b.get("a1")
    assert (agent.name, agent.username, agent.languages, agent.state) == ("Olena K", "olena.k", ("uk", "en"),
                                                                           S.AVAILABLE)
    assert b.by_username("olena") is None and b.by_username("olena.k") is agent
    assert [a.agent_id for a in b.all()] == ["a1", "a2"]


def test_drop_forgets_agent_and_registration(board):
    b, _ = board
    b.registered("petro", True)
    b.drop("a2")
    assert b.find("a2") is None and b.by_username("petro") is None and not b.is_registered("a2")
    with pytest.raises(UnknownAgentError) as err:
        b.get("a2")
    assert err.value.agent_id == "a2" and str(err.value) == "no agent 'a2'"
    b.drop("a2")  # twice is harmless


def test_registration_drives_offline_and_available(board):
    b, clock = board
    seen: list[tuple[str, AgentState]] = []
    b.listeners.append(lambda a: seen.append((a.agent_id, a.state)))
    clock.now = 110.0
    assert b.registered("olena", True) is b.get("a1")
    assert (b.get("a1").state, b.get("a1").idle_since, b.is_registered("a1")) == (S.AVAILABLE, 110.0, True)
    b.registered("olena", True)  # a refresh changes nothing
    b.registered("olena", False)
    assert (b.get("a1").state, b.is_registered("a1")) == (S.OFFLINE, False)
    assert seen == [("a1", S.AVAILABLE), ("a1", S.OFFLINE)]
    assert b.registered("nobody", True) is None


def test_unregistering_during_a_call_keeps_the_call(board):
    b, _ = board
    b.registered("olena", True)
    agent = b.get("a1")
    b.move(agent, S.RINGING)
    b.move(agent, S.ON_CALL)
    b.registered("olena", False)
    assert agent.state == S.ON_CALL and not b.is_registered("a1")


def test_registering_while_away_stays_away(board):
    b, _ = board
    b.set_status("a1", S.AWAY)
    b.registered("olena", True)
    assert b.get("a1").state == S.AWAY


def test_set_status_needs_a_registered_phone_for_available(board):
    b, _ = board
    with pytest.raises(IllegalAgentTransitionError) as err:
        b.set_status("a1", S.AVAILABLE)
    assert (err.value.current, err.value.wanted, err.value.reason) == (S.OFFLINE, S.AVAILABLE, "no registered phone")
    assert b.set_status("a1", S.AWAY).state == S.AWAY
    b.registered("olena", True)
    agent = b.get("a1")
    agent.misses = 2
    assert b.set_status("a1", S.AVAILABLE).state == S.AVAILABLE
    assert agent.misses == 0


@pytest.mark.parametrize("wanted", [S.RINGING, S.ON_CALL, S.WRAP_UP])
def test_set_status_refuses_call_driven_states(board, wanted):
    b, _ = board
    b.registered("olena", True)
    with pytest.raises(IllegalAgentTransitionError) as err:
        b.set_status("a1", wanted)
    assert err.value.reason == "set by calls, not by the status API"
    assert b.get("a1").state == S.AVAILABLE


def test_set_status_cannot_leave_a_call_for_away(board):
    b, _ = board
    b.registered("olena", True)
    agent = b.get("a1")
    b.move(agent, S.RINGING)
    b.move(agent, S.ON_CALL)
    with pytest.raises(IllegalAgentTransitionError) as err:
        b.set_status("a1", S.AWAY)
    assert (err.value.current, err.value.wanted) == (S.ON_CALL, S.AWAY)


def test_set_status_unknown_agent(board):
    b, _ = board
    with pytest.raises(UnknownAgentError) as err:
        b.set_status("nope", S.AWAY)
    assert err.value.agent_id == "nope"


def test_free_lists_longest_idle_first_and_filters(board):
    b, clock = board
    b.sync(AgentInfo("a3", "Iryna", "iryna", ("ru",), ("cards",)))
    b.sync(AgentInfo("a4", "Taras", "taras", ("uk",), ("cards",)))  # never registers
    for name, at in (("petro", 120.0), ("olena", 130.0), ("iryna", 110.0)):
        clock.now = at
        b.registered(name, True)
    assert [a.agent_id for a in b.free(None, ())] == ["a3", "a2", "a1"]
    assert [a.agent_id for a in b.free("uk", ("cards",))] == ["a2", "a1"]
    assert [a.agent_id for a in b.free("uk", ("loans",))] == ["a2"]
    assert [a.agent_id for a in b.free(None, (), frozenset({"a3"}))] == ["a2", "a1"]
    clock.now = 140.0
    b.set_status("a3", S.AWAY)
    b.set_status("a3", S.AVAILABLE)  # back from away: idle again from now, so last in line
    assert [a.agent_id for a in b.free(None, ())] == ["a2", "a1", "a3"]
    b.move(b.get("a2"), S.RINGING)
    assert [a.agent_id for a in b.free(None, ())] == ["a1", "a3"]
