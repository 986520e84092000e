"""``hotline agents add|list|remove``: the agent directory, written straight to the database like ``hotline keys``.

A running server picks such changes up at its next ``GET /api/v1/agents`` or restart; the REST API
(``/api/v1/agents``) applies them at once and also refuses to delete an agent who is on a call.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hotline.cli_settings import ConfigOpt, load, override

if TYPE_CHECKING:
    from store.agents import AgentRecord
    from store.store import Store

app = typer.Typer(help="Agents and the SIP credentials of their phones.", no_args_is_help=True)
DbOpt = typer.Option(None, "--db", help="Database URL (overrides store.url of the config).")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def open_store(config: Path | None, db: str | None) -> Iterator[tuple[Store, str]]:
    """The migrated store of the configured database and the SIP realm, closed afterwards."""
    from store.store import Store

    over: dict[str, Any] = {}
    override(over, "store.url", db)
    settings = load(config, over)
    store = Store(settings.store.url)
    try:
        store.migrate()
        yield store, str(getattr(settings.sip, "realm", "hotline"))
    finally:
        store.close()


def split_list(text: str | None) -> list[str]:
    """``"uk, ru"`` -> ``["uk", "ru"]``; empty items are dropped."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _password(given: str | None, from_stdin: bool) -> str:
    if given is not None and from_stdin:
        raise _fail("give --password or --password-stdin, not both", 2)
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise _fail("--password-stdin: standard input has no password line", 2)
        return line
    if given is not None:
        return given
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _line(rec: AgentRecord) -> str:
    return (f"{rec.id}  {rec.username:<20} {rec.name:<24} {','.join(rec.languages) or '-':<10} "
            f"{','.join(rec.skills) or '-'}")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Display name."),
    username: str = typer.Option(..., "--username", help="SIP user name of the agent's phone."),
    password: str | None = typer.Option(None, "--password", help="Password (stays in shell history; "
                                        "--password-stdin or the hidden prompt do not)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    languages: str | None = typer.Option(None, "--languages", help="ISO 639-1 codes, comma-separated: uk,ru."),
    skills: str | None = typer.Option(None, "--skills", help="Skill slugs, comma-separated: cards,loans."),
    as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt,
    db: str | None = DbOpt,
) -> None:
    """Create an agent; without --password or --password-stdin the password is asked for (hidden).

    The agent's id is printed on the last line.
    """
    from callcenter.agents import AgentFieldError, check_password
    from store.agents import DuplicateUsernameError

    secret = _password(password, password_stdin)
    try:
        check_password(secret)  # before touching the database
        with open_store(config, db) as (store, realm):
            rec = store.agents.create(name, username, secret, realm, split_list(languages), split_list(skills))
    except AgentFieldError as exc:
        raise _fail(str(exc), 2) from None
    except DuplicateUsernameError as exc:
        raise _fail(str(exc), 1) from None
    if as_json:
        typer.echo(json.dumps(rec.to_json()))
        return
    typer.echo(f"created agent {rec.name} (SIP username {rec.username}, realm {rec.realm}):")
    typer.echo(rec.id)


@app.command("list")
def list_cmd(as_json: bool = JsonOpt, config: Path | None = ConfigOpt, db: str | None = DbOpt) -> None:
    """Every agent by name (never their password hashes)."""
    with open_store(config, db) as (store, _realm):
        records = store.agents.all()
    if as_json:
        typer.echo(json.dumps([rec.to_json() for rec in records]))
        return
    if not records:
        typer.echo("no agents")
        return
    typer.echo(f"{'ID':<32}  {'USERNAME':<20} {'NAME':<24} {'LANGUAGES':<10} SKILLS")
    for rec in records:
        typer.echo(_line(rec))


@app.command("remove")
def remove(
    agent: str = typer.Argument(..., metavar="ID_OR_USERNAME", help="The agent's id or SIP user name."),
    config: Path | None = ConfigOpt,
    db: str | None = DbOpt,
) -> None:
    """Delete an agent by id or SIP user name."""
    from callcenter.board import UnknownAgentError

    with open_store(config, db) as (store, _realm):
        rec = store.agents.get(agent) or store.agents.by_username(agent)
        if rec is None:
            raise _fail(f"no agent with id or username {agent!r}", 1)
        try:
            store.agents.delete(rec.id)
        except UnknownAgentError as exc:  # removed by someone else in between
            raise _fail(str(exc), 1) from None
    typer.echo(f"removed agent {rec.name} (SIP username {rec.username}, id {rec.id})")
