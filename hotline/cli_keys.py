"""``hotline keys create|list|revoke``: API keys, written straight to the database.

A running server checks every request's key against the database, so a revoked or expired key is refused from the
next request on (a WebSocket already open stays open until it closes).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from core.roles import ROLES, UnknownRoleError
from hotline.cli_agents import open_store
from hotline.cli_settings import ConfigOpt

if TYPE_CHECKING:
    from store.keys import KeyRecord

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
DbOpt = typer.Option(None, "--db", help="Database URL (overrides store.url of the config).")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")
MAX_DAYS = 36500


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _when(t: datetime | None, none: str = "-") -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t is not None else none


def _table(rows: list[list[str]]) -> list[str]:
    """Columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


@app.command("create")
def create(
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
    name: str | None = typer.Option(None, "--name", help="Who or what the key is for."),
    agent: str | None = typer.Option(None, "--agent", help="Agent keys: the agent (id or user name) the key "
                                     "acts for; it then reads and acts on that agent's calls only. Required "
                                     "for --role agent."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, max=MAX_DAYS,
                                            help="Stop working this many days from now (default: never)."),
    as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt,
    db: str | None = DbOpt,
) -> None:
    """Create an API key and print it on the last line (it is shown only once)."""
    if (role == "agent") != (agent is not None):
        raise _fail("--agent is required for --role agent, and only for it (an agent key acts for one agent)", 2)
    with open_store(config, db) as (store, _):
        agent_id = None
        if agent is not None:
            found = store.agents.get(agent) or store.agents.by_username(agent)
            if found is None:
                raise _fail(f"no agent {agent!r} (give its id or user name; `hotline agents list`)", 2)
            agent_id = found.id
        try:
            key, rec = store.keys.issue(role, name, valid_for=timedelta(days=expires_days) if expires_days else None,
                                        agent_id=agent_id)
        except UnknownRoleError as exc:
            raise _fail(str(exc), 2) from None
    if as_json:
        typer.echo(json.dumps({**rec.to_json(rec.created_at), "key": key}))
        return
    about = f"{rec.label}, " + (f"{name}, " if name else "") + f"expires {_when(rec.expires_at, 'never')}"
    typer.echo(f"created {role} key {rec.id} ({about}); store it now, it cannot be shown again:")
    typer.echo(key)


@app.command("list")
def list_cmd(
    show_all: bool = typer.Option(False, "--all", help="Also revoked and expired keys."),
    as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt,
    db: str | None = DbOpt,
) -> None:
    """Keys by id: id, prefix, role, name, created, expires, status (never the secret).

    Only working keys unless --all.
    """
    with open_store(config, db) as (store, _):
        now = store.keys.clock()
        records = store.keys.all(include_inactive=show_all)
    if as_json:
        typer.echo(json.dumps([rec.to_json(now) for rec in records]))
        return
    if not records:
        typer.echo("no API keys" if show_all else "no active API keys (--all also lists revoked and expired ones)")
        return
    rows = [["ID", "PREFIX", "ROLE", "NAME", "CREATED", "EXPIRES", "STATUS"]]
    rows += [[str(rec.id), rec.label, rec.role, rec.name or "-", _when(rec.created_at), _when(rec.expires_at, "never"),
              rec.status(now)] for rec in records]
    for line in _table(rows):
        typer.echo(line)


@app.command("revoke")
def revoke(
    ref: str = typer.Argument(..., metavar="ID_OR_PREFIX",
                              help="The key's id or prefix (ab12cd34, hk_ab12cd34_), or the whole key."),
    as_json: bool = JsonOpt,
    config: Path | None = ConfigOpt,
    db: str | None = DbOpt,
) -> None:
    """Revoke a key: running servers refuse it from their next request. Revoking it again changes nothing."""
    from store.keys import AmbiguousKeyError, UnknownKeyError

    with open_store(config, db) as (store, _):
        try:
            rec, newly = store.keys.revoke(ref)
        except (UnknownKeyError, AmbiguousKeyError) as exc:
            raise _fail(f"{exc.args[0]} (see hotline keys list --all)", 2) from None
        now = store.keys.clock()
    if as_json:
        typer.echo(json.dumps({**rec.to_json(now), "changed": newly}))
        return
    if newly:
        typer.echo(f"revoked {_describe(rec)}; running servers refuse it from their next request")
    else:
        typer.echo(f"{_describe(rec)} was already revoked (at {_when(rec.revoked_at, 'an unrecorded time')}); "
                   "nothing changed")


def _describe(rec: KeyRecord) -> str:
    return f"{rec.role} key {rec.id} ({rec.label}" + (f", {rec.name})" if rec.name else ")")
