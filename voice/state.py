"""The call state machine: explicit states, illegal transitions refused."""

from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    """Life of one inbound call leg."""

    OFFERED = "offered"  # INVITE received, not yet answered
    RINGING = "ringing"  # 180 sent
    ANSWERED = "answered"  # 200 sent, waiting for ACK
    CONNECTED = "connected"  # ACK received, media flowing
    HELD = "held"  # remote put us on hold (re-INVITE)
    ENDED = "ended"


_ALLOWED: dict[CallState, frozenset[CallState]] = {
    CallState.OFFERED: frozenset({CallState.RINGING, CallState.ANSWERED, CallState.ENDED}),
    CallState.RINGING: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.CONNECTED, CallState.ENDED}),
    CallState.CONNECTED: frozenset({CallState.HELD, CallState.ENDED}),
    CallState.HELD: frozenset({CallState.CONNECTED, CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class IllegalTransitionError(RuntimeError):
    """A state change the call state machine does not allow."""

    def __init__(self, call_id: str, current: CallState, wanted: CallState) -> None:
        super().__init__(f"call {call_id}: cannot go from {current} to {wanted}")
        self.call_id = call_id
        self.current = current
        self.wanted = wanted


class CallStateMachine:
    """Holds the state of one call and enforces legal transitions."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.state = CallState.OFFERED

    def to(self, wanted: CallState) -> None:
        """Move to ``wanted`` or raise :class:`IllegalTransitionError`."""
        if wanted not in _ALLOWED[self.state]:
            raise IllegalTransitionError(self.call_id, self.state, wanted)
        self.state = wanted

    def can(self, wanted: CallState) -> bool:
        """Whether ``wanted`` is reachable in one step."""
        return wanted in _ALLOWED[self.state]
