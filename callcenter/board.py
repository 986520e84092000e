"""The board of all agents: presence, registrations, and who is free. Runs in the asyncio loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from callcenter.presence import SETTABLE, AgentPresence, AgentState, IllegalAgentTransitionError

Clock = Callable[[], float]
Listener = Callable[[AgentPresence], None]


class UnknownAgentError(KeyError):
    """No agent has this id."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id)
        self.agent_id = agent_id

    def __str__(self) -> str:
        return f"no agent {self.agent_id!r}"


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """Directory data of an agent, as the board needs it."""

    agent_id: str
    name: str
    username: str
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()


class AgentBoard:
    """Every known agent's presence. ``clock`` is monotonic seconds; ``wall`` maps it to epoch time."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._agents: dict[str, AgentPresence] = {}
        self._by_username: dict[str, str] = {}
        self._registered: set[str] = set()  # agent ids with a live SIP binding
        self.listeners: list[Listener] = []

    # -- directory ----------------------------------------------------------
    def sync(self, info: AgentInfo) -> AgentPresence:
        """Add an agent or refresh its directory data (state is kept)."""
        cur = self._agents.get(info.agent_id)
        if cur is None:
            cur = AgentPresence(info.agent_id, info.name, info.username, since=self.clock())
            self._agents[info.agent_id] = cur
        else:
            self._by_username.pop(cur.username, None)
        cur.name, cur.username = info.name, info.username
        cur.languages, cur.skills = info.languages, info.skills
        self._by_username[info.username] = info.agent_id
        return cur

    def drop(self, agent_id: str) -> None:
        """Forget an agent (deleted)."""
        cur = self._agents.pop(agent_id, None)
        if cur is not None:
            self._by_username.pop(cur.username, None)
            self._registered.discard(agent_id)

    def get(self, agent_id: str) -> AgentPresence:
        """The agent's presence or :class:`UnknownAgentError`."""
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgentError(agent_id) from None

    def find(self, agent_id: str) -> AgentPresence | None:
        """The agent's presence, or None."""
        return self._agents.get(agent_id)

    def by_username(self, username: str) -> AgentPresence | None:
        """The agent whose phone registers as ``username``."""
        agent_id = self._by_username.get(username)
        return self._agents.get(agent_id) if agent_id else None

    def all(self) -> list[AgentPresence]:
        """Every agent, by name."""
        return sorted(self._agents.values(), key=lambda a: (a.name, a.agent_id))

    # -- state changes --------------------------------------------------------
    def move(self, agent: AgentPresence, wanted: AgentState, reason: str = "") -> None:
        """Apply a transition and tell the listeners."""
        if agent.state == wanted:
            return
        agent.to(wanted, self.clock(), reason)
        for listener in list(self.listeners):
            listener(agent)

    def registered(self, username: str, bound: bool) -> AgentPresence | None:
        """A phone registered (``bound``) or its binding ended. Drives offline <-> available."""
        agent = self.by_username(username)
        if agent is None:
            return None
        if bound:
            self._registered.add(agent.agent_id)
            if agent.state == AgentState.OFFLINE:
                self.move(agent, AgentState.AVAILABLE, "phone registered")
        else:
            self._registered.discard(agent.agent_id)
            if agent.state not in (AgentState.ON_CALL, AgentState.OFFLINE):
                self.move(agent, AgentState.OFFLINE, "phone unregistered")
        return agent

    def is_registered(self, agent_id: str) -> bool:
        """Whether the agent has a live SIP binding."""
        return agent_id in self._registered

    def set_status(self, agent_id: str, wanted: AgentState) -> AgentPresence:
        """The status API: only available / away / offline may be asked for, and only legally."""
        agent = self.get(agent_id)
        if wanted not in SETTABLE:
            raise IllegalAgentTransitionError(agent_id, agent.state, wanted, "set by calls, not by the status API")
        if wanted == AgentState.AVAILABLE and agent_id not in self._registered:
            raise IllegalAgentTransitionError(agent_id, agent.state, wanted, "no registered phone")
        if wanted != agent.state:
            if wanted == AgentState.AVAILABLE:
                agent.misses = 0
            self.move(agent, wanted, "status API")
        return agent

    def free(self, language: str | None, skills: tuple[str, ...], exclude: frozenset[str] = frozenset()
             ) -> list[AgentPresence]:
        """Available, registered agents with the skills, longest idle first."""
        out = [a for a in self._agents.values()
               if a.state == AgentState.AVAILABLE and a.agent_id in self._registered
               and a.agent_id not in exclude and a.has(language, skills)]
        return sorted(out, key=lambda a: (a.idle_since, a.agent_id))
