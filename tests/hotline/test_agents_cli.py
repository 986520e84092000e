"""``hotline agents add|list|remove`` against a temporary database, then seen by a real server."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from callcenter.agents import verify_password
from tests.support.agents import stored_agent_row
from tests.support.server import HOTLINE, ROOT, run_cli, start_server


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agents.db'}"


def cli_with_input(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with ``text`` on standard input and no controlling terminal (so prompts read stdin)."""
    return subprocess.run([*HOTLINE, *args], input=text, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          start_new_session=True)


def listed(db: str) -> list[dict[str, Any]]:
    return list(json.loads(run_cli("agents", "list", "--json", "--db", db).stdout))


def test_add_list_remove(db):
    proc = run_cli("agents", "add", "Olena Kovalenko", "--username", "olena", "--password", "secret-123",
                   "--languages", "uk, ru", "--skills", "cards,loans", "--db", db)
    lines = proc.stdout.strip().splitlines()
    assert "olena" in lines[0] and "realm hotline" in lines[0]
    agent_id = lines[-1]
    assert len(agent_id) == 32
    [rec] = listed(db)
    assert rec == {"id": agent_id, "name": "Olena Kovalenko", "username": "olena", "languages": ["uk", "ru"],
                   "skills": ["cards", "loans"], "realm": "hotline", "created_at": rec["created_at"]}
    row = stored_agent_row(db, username="olena")
    assert verify_password(row.password_hash, "secret-123")
    assert row.ha1 == hashlib.md5(b"olena:hotline:secret-123").hexdigest()

    text = run_cli("agents", "list", "--db", db).stdout
    assert agent_id in text and "Olena Kovalenko" in text and "uk,ru" in text and "secret" not in text
    run_cli("agents", "add", "Petro", "--username", "petro", "--password", "secret-456", "--db", db)
    assert run_cli("agents", "remove", agent_id, "--db", db).stdout.startswith("removed agent Olena Kovalenko")
    assert run_cli("agents", "remove", "petro", "--db", db).returncode == 0
    assert listed(db) == []
    assert run_cli("agents", "list", "--db", db).stdout.strip() == "no agents"


def test_password_from_stdin_and_from_the_prompt(db):
    proc = cli_with_input("piped-secret\n", "agents", "add", "Iryna", "--username", "iryna", "--password-stdin",
                          "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["username"] == "iryna"
    assert verify_password(stored_agent_row(db, username="iryna").password_hash, "piped-secret")

    proc = cli_with_input("typed-secret\ntyped-secret\n", "agents", "add", "Taras", "--username", "taras",
                          "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert "typed-secret" not in proc.stdout
    assert verify_password(stored_agent_row(db, username="taras").password_hash, "typed-secret")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--username", "a b", "--password", "secret-123"], 2, "username ('a b'): must be 1 to 64"),
    (["--username", "u1", "--password", "short"], 2, "password: must be 8"),
    (["--username", "u1", "--password", "secret-123", "--languages", "ukr"], 2, "languages ('ukr')"),
    (["--username", "u1", "--password", "secret-123", "--skills", "Car Loans"], 2, "skills ('Car Loans')"),
    (["--username", "u1", "--password", "secret-123", "--password-stdin"], 2, "not both"),
])
def test_add_refuses_bad_input_without_a_traceback(db, args, code, message):
    proc = run_cli("agents", "add", "Someone", *args, "--db", db, check=False)
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert "short" not in proc.stderr
    assert listed(db) == []


def test_duplicate_username_and_unknown_agent(db):
    run_cli("agents", "add", "Olena", "--username", "olena", "--password", "secret-123", "--db", db)
    proc = run_cli("agents", "add", "Other", "--username", "olena", "--password", "secret-123", "--db", db,
                   check=False)
    assert proc.returncode == 1 and "'olena' is already taken" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("agents", "remove", "nobody", "--db", db, check=False)
    assert proc.returncode == 1 and "no agent with id or username 'nobody'" in proc.stderr
    assert [a["username"] for a in listed(db)] == ["olena"]


def test_config_file_and_the_running_server_sees_the_agents(tmp_path):
    db = f"sqlite:///{tmp_path / 'srv' / 'hotline.db'}"
    config = tmp_path / "cli.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": db}}))
    agent_id = run_cli("agents", "add", "Olena", "--username", "olena", "--password", "secret-123",
                       "--languages", "uk", "--config", str(config)).stdout.strip().splitlines()[-1]
    run_cli("agents", "add", "Petro", "--username", "petro", "--password", "secret-456", "--config", str(config))
    server = start_server(tmp_path / "srv", {"asr": {"enabled": False}, "store": {"url": db}})
    try:
        with server.client() as c:
            agents = c.get("/api/v1/agents").json()["agents"]
            assert [(a["username"], a["state"]) for a in agents] == [("olena", "offline"), ("petro", "offline")]
            run_cli("agents", "remove", "petro", "--config", str(config))
            assert [a["id"] for a in c.get("/api/v1/agents").json()["agents"]] == [agent_id]
            r = c.put(f"/api/v1/agents/{agent_id}/status", json={"status": "away"})
            assert r.status_code == 200 and r.json()["state"] == "away"
    finally:
        server.stop()
