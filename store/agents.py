"""Agents and their credentials (:class:`AgentRepository`), and filling the board from them.

Passwords are kept twice, both derived: an argon2id hash for the console login and the SIP
digest HA1 (which covers user name and realm, so changing either needs the password again).
Neither ever leaves this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.agents import (
    AgentFieldError,
    burn_verify_time,
    check_languages,
    check_name,
    check_password,
    check_skills,
    check_username,
    digest_ha1,
    hash_password,
    verify_password,
)
from callcenter.board import AgentBoard, AgentInfo, UnknownAgentError
from core.clock import utcnow
from store.schema import AgentRow


class DuplicateUsernameError(ValueError):
    """Another agent already has this SIP user name."""

    def __init__(self, username: str) -> None:
        super().__init__(f"SIP username {username!r} is already taken")
        self.username = username


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent as the API shows it: no password hash, no HA1."""

    id: str
    name: str
    username: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    realm: str  # the realm the stored HA1 was made for
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"id": self.id, "name": self.name, "username": self.username, "languages": list(self.languages),
                "skills": list(self.skills), "realm": self.realm, "created_at": self.created_at.isoformat()}

    def info(self) -> AgentInfo:
        """What the board needs to know."""
        return AgentInfo(self.id, self.name, self.username, self.languages, self.skills)


def _record(row: AgentRow) -> AgentRecord:
    return AgentRecord(row.id, row.name, row.sip_username, tuple(row.languages or ()), tuple(row.skills or ()),
                       row.ha1_realm, row.created_at)


def _username_taken(s: Session, username: str, other_than: str | None = None) -> bool:
    q = select(AgentRow.id).where(AgentRow.sip_username == username)
    if other_than is not None:
        q = q.where(AgentRow.id != other_than)
    return s.scalar(q) is not None


class AgentRepository:
    """Agent persistence."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, name: str, username: str, password: str, realm: str, languages: Iterable[str] = (),
                     skills: Iterable[str] = ()) -> AgentRecord:
        """Insert an agent; raises :class:`AgentFieldError` or :class:`DuplicateUsernameError`."""
        row = AgentRow(id=uuid.uuid4().hex, name=check_name(name), sip_username=check_username(username),
                       ha1_realm=realm, languages=list(check_languages(languages)),
                       skills=list(check_skills(skills)), created_at=utcnow())
        check_password(password)
        with self.sessions() as s:
            if _username_taken(s, username):
                raise DuplicateUsernameError(username)
        row.password_hash = hash_password(password)
        row.ha1 = digest_ha1(username, realm, password)
        try:
            with self.sessions.begin() as s:
                s.add(row)
        except IntegrityError:  # lost a race with another insert of the same name
            raise DuplicateUsernameError(username) from None
        return _record(row)

    def all(self) -> list[AgentRecord]:
        """Every agent, by name."""
        with self.sessions() as s:
            return [_record(r) for r in s.scalars(select(AgentRow).order_by(AgentRow.name, AgentRow.id))]

    def get(self, agent_id: str) -> AgentRecord | None:
        """One agent, or None."""
        with self.sessions() as s:
            row = s.get(AgentRow, agent_id)
            return _record(row) if row is not None else None

    def by_username(self, username: str) -> AgentRecord | None:
        """The agent with this SIP user name, or None."""
        with self.sessions() as s:
            row = s.scalars(select(AgentRow).where(AgentRow.sip_username == username)).first()
            return _record(row) if row is not None else None

    def update(self, agent_id: str, *, name: str | None = None, username: str | None = None,
                     password: str | None = None, realm: str | None = None, languages: Iterable[str] | None = None,
                     skills: Iterable[str] | None = None) -> AgentRecord:
        """Change the given fields. A new password replaces both hashes (HA1 for ``realm``, default the stored
        one); a new username needs the password too. Raises :class:`UnknownAgentError`,
        :class:`AgentFieldError` or :class:`DuplicateUsernameError`."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name)
        if languages is not None:
            changes["languages"] = list(check_languages(languages))
        if skills is not None:
            changes["skills"] = list(check_skills(skills))
        if password is not None:
            check_password(password)
        try:
            with self.sessions.begin() as s:
                row = s.get(AgentRow, agent_id)
                if row is None:
                    raise UnknownAgentError(agent_id)
                if username is not None and username != row.sip_username:
                    if password is None:
                        raise AgentFieldError("password", "needed to change the username (the SIP HA1 covers it)")
                    if _username_taken(s, check_username(username), agent_id):
                        raise DuplicateUsernameError(username)
                    changes["sip_username"] = username
                if password is not None:
                    ha1_realm = realm or row.ha1_realm
                    changes.update(password_hash=hash_password(password), ha1_realm=ha1_realm,
                                   ha1=digest_ha1(changes.get("sip_username", row.sip_username), ha1_realm, password))
                for key, value in changes.items():
                    setattr(row, key, value)
                s.flush()
                return _record(row)
        except IntegrityError:
            raise DuplicateUsernameError(username or "") from None

    def delete(self, agent_id: str) -> None:
        """Remove an agent; raises :class:`UnknownAgentError`."""
        with self.sessions.begin() as s:
            row = s.get(AgentRow, agent_id)
            if row is None:
                raise UnknownAgentError(agent_id)
            s.delete(row)

    def credentials(self) -> dict[str, tuple[str, str]]:
        """SIP username -> (HA1, realm it was made for), for digest authentication of REGISTER."""
        with self.sessions() as s:
            rows = s.execute(select(AgentRow.sip_username, AgentRow.ha1, AgentRow.ha1_realm)).all()
            return {user: (ha1, realm) for user, ha1, realm in rows}

    def check_password(self, username: str, password: str) -> AgentRecord | None:
        """The agent when ``password`` is theirs, else None (unknown names cost the same time)."""
        with self.sessions() as s:
            row = s.scalars(select(AgentRow).where(AgentRow.sip_username == username)).first()
            if row is None:
                burn_verify_time(password)
                return None
            return _record(row) if verify_password(row.password_hash, password) else None


def load_board(agents: AgentRepository, board: AgentBoard) -> bool:
    """Fill the board from the store at start-up (see :func:`sync_board`); returns whether anything changed."""
    return sync_board(board, agents.all())


def sync_board(board: AgentBoard, records: list[AgentRecord]) -> bool:
    """Make the board's directory match ``records`` (add and refresh agents, drop the ones not listed;
    live state is kept). Returns whether anything changed. Call it in the thread that owns the board."""
    changed = False
    for rec in records:
        cur = board.find(rec.id)
        if cur is None or (cur.name, cur.username, cur.languages, cur.skills) != (
                rec.name, rec.username, rec.languages, rec.skills):
            board.sync(rec.info())
            changed = True
    keep = {rec.id for rec in records}
    for presence in board.all():
        if presence.agent_id not in keep:
            board.drop(presence.agent_id)
            changed = True
    return changed
