"""``hotline keys create|list|revoke`` against a temporary database, and a revoked key refused by a real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from core.roles import ROLES
from store.schema import ApiKey
from store.store import Store
from tests.support.server import NO_AGENTS, run_cli, start_server


def test_keys_create_prints_the_key_last(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    proc = run_cli("keys", "create", "--role", "integration", "--name", "desk 7", "--db", url)
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    key = lines[-1]
    assert key.startswith("hk_") and " " not in key
    assert len(key) > 40
    assert "integration" in lines[0]
    assert (tmp_path / "x.db").is_file()
    store = Store(url)
    try:
        who = store.keys.authenticate(key)
        assert who is not None
        assert (who.role, who.name) == ("integration", "desk 7")
    finally:
        store.close()


def test_keys_create_unknown_role_exits_2_without_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    proc = run_cli("keys", "create", "--role", "bogus", "--db", url, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "error: unknown role 'bogus'" in proc.stderr
    assert ", ".join(ROLES) in proc.stderr
    assert "hk_" not in proc.stdout


# -- list, revoke, expiry ------------------------------------------------------------------------------------------


def _create(url: str, *args: str) -> tuple[str, dict[str, Any]]:
    """A key made with ``keys create --json``: the plaintext and its listed fields."""
    made = json.loads(run_cli("keys", "create", *args, "--json", "--db", url).stdout)
    return made.pop("key"), made


def _listed(url: str, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(run_cli("keys", "list", "--json", *args, "--db", url).stdout))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'keys.db'}"


def test_create_with_expiry_says_when(url):
    proc = run_cli("keys", "create", "--role", "integration", "--name", "crm", "--expires-days", "30", "--db", url)
    first, key = proc.stdout.strip().splitlines()
    expected = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"hk_{key.split('_')[1]}_" in first and "crm" in first and f"expires {expected}" in first
    [rec] = _listed(url)
    created, expires = datetime.fromisoformat(rec["created_at"]), datetime.fromisoformat(rec["expires_at"])
    assert expires - created == timedelta(days=30)
    assert "expires never" in run_cli("keys", "create", "--role", "integration", "--db", url).stdout


@pytest.mark.parametrize("days", ["0", "-1", "36501", "x"])
def test_create_rejects_a_bad_expiry(url, days):
    proc = run_cli("keys", "create", "--role", "integration", "--expires-days", days, "--db", url, check=False)
    assert proc.returncode == 2 and "--expires-days" in proc.stderr and "Traceback" not in proc.stderr
    assert "hk_" not in proc.stdout


def test_list_shows_the_prefix_never_the_secret(url):
    key, made = _create(url, "--role", "integration", "--name", "desk 7")
    key2, _ = _create(url, "--role", "security", "--expires-days", "7")
    text = run_cli("keys", "list", "--db", url).stdout
    header, *rows = text.strip().splitlines()
    assert header.split() == ["ID", "PREFIX", "ROLE", "NAME", "CREATED", "EXPIRES", "STATUS"]
    assert len(rows) == 2
    assert rows[0].split()[:4] == [str(made["id"]), made["prefix"], "integration", "desk"]
    assert "never" in rows[0] and rows[0].endswith("active")
    for k in (key, key2):
        secret = k.split("_", 2)[2]
        assert secret not in text and secret[:8] not in text
        assert k.split("_")[1] in text
    listed = _listed(url)
    assert [r["prefix"] for r in listed] == [f"hk_{key.split('_')[1]}_", f"hk_{key2.split('_')[1]}_"]
    assert set(listed[0]) == {"id", "prefix", "role", "name", "created_at", "expires_at", "revoked_at", "status",
                              "agent_id"}
    assert key.split("_", 2)[2] not in json.dumps(listed)


def test_revoke_by_prefix_and_by_id_then_list(url):
    k1, r1 = _create(url, "--role", "integration", "--name", "one")
    k2, r2 = _create(url, "--role", "admin", "--name", "two")
    k3, _ = _create(url, "--role", "integration", "--name", "three")
    out = run_cli("keys", "revoke", k1.split("_")[1], "--db", url).stdout
    assert out.startswith(f"revoked integration key {r1['id']} ({r1['prefix']}, one)")
    out = run_cli("keys", "revoke", str(r2["id"]), "--db", url).stdout
    assert out.startswith(f"revoked admin key {r2['id']} ({r2['prefix']}, two)")
    assert [r["name"] for r in _listed(url)] == ["three"]
    everything = _listed(url, "--all")
    assert [(r["name"], r["status"]) for r in everything] == [("one", "revoked"), ("two", "revoked"),
                                                               ("three", "active")]
    assert all(r["revoked_at"] for r in everything[:2])
    text = run_cli("keys", "list", "--all", "--db", url).stdout
    assert text.count("revoked") == 2 and text.count("active") == 1
    store = Store(url)
    try:
        assert store.keys.authenticate(k1) is None and store.keys.authenticate(k2) is None
        assert store.keys.authenticate(k3) is not None
    finally:
        store.close()


def test_revoking_twice_is_harmless_and_says_so(url):
    _, made = _create(url, "--role", "integration")
    run_cli("keys", "revoke", made["prefix"], "--db", url)
    first = _listed(url, "--all")[0]["revoked_at"]
    proc = run_cli("keys", "revoke", made["prefix"], "--db", url)
    assert proc.returncode == 0 and "already revoked" in proc.stdout and "nothing changed" in proc.stdout
    assert _listed(url, "--all")[0]["revoked_at"] == first
    again = json.loads(run_cli("keys", "revoke", str(made["id"]), "--json", "--db", url).stdout)
    assert (again["changed"], again["status"], again["revoked_at"]) == (False, "revoked", first)


@pytest.mark.parametrize("ref", ["42", "deadbeef", "hk_deadbeef_"])
def test_revoke_unknown_exits_2(url, ref):
    _create(url, "--role", "integration")
    proc = run_cli("keys", "revoke", ref, "--db", url, check=False)
    assert proc.returncode == 2
    assert f"error: no API key with id or prefix {ref!r}" in proc.stderr and "Traceback" not in proc.stderr
    assert [r["status"] for r in _listed(url, "--all")] == ["active"]


def test_expired_keys_are_listed_only_with_all(url):
    key, made = _create(url, "--role", "integration", "--name", "old")
    store = Store(url)
    try:
        with store.sessions.begin() as s:
            s.execute(update(ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        assert store.keys.authenticate(key) is None
    finally:
        store.close()
    assert _listed(url) == []
    assert "no active API keys" in run_cli("keys", "list", "--db", url).stdout
    [rec] = _listed(url, "--all")
    assert (rec["id"], rec["status"], rec["revoked_at"]) == (made["id"], "expired", None)
    assert run_cli("keys", "list", "--all", "--db", url).stdout.strip().splitlines()[1].endswith("expired")


def test_a_running_server_refuses_a_revoked_key_at_once(tmp_path):
    server = start_server(tmp_path / "srv", NO_AGENTS)
    try:
        key = run_cli("keys", "create", "--role", "integration", "--name", "e2e", "--db",
                      server.db_url).stdout.strip().splitlines()[-1]
        with server.client(key) as c:
            assert c.get("/api/v1/calls").status_code == 200
            run_cli("keys", "revoke", key.split("_")[1], "--db", server.db_url)
            r = c.get("/api/v1/calls")
            assert r.status_code == 401, r.text
        with server.client() as c:  # the server's own admin key is untouched
            assert c.get("/api/v1/calls").status_code == 200
    finally:
        server.stop()


def test_an_agent_key_is_bound_to_an_agent(tmp_path):
    url = f"sqlite:///{tmp_path / 'bound.db'}"
    run_cli("agents", "add", "Olena K.", "--username", "olena", "--password", "olena-secret-1", "--db", url)
    unbound = run_cli("keys", "create", "--role", "agent", "--db", url, check=False)
    assert unbound.returncode == 2 and "--agent is required for --role agent" in unbound.stderr
    missing = run_cli("keys", "create", "--role", "agent", "--agent", "nobody", "--db", url, check=False)
    assert missing.returncode == 2 and "no agent 'nobody'" in missing.stderr
    wrong = run_cli("keys", "create", "--role", "admin", "--agent", "olena", "--db", url, check=False)
    assert wrong.returncode == 2
    key = run_cli("keys", "create", "--role", "agent", "--agent", "olena", "--db", url).stdout.strip().splitlines()[-1]
    store = Store(url)
    try:
        who = store.keys.authenticate(key)
        agent = store.agents.by_username("olena")
    finally:
        store.close()
    assert who is not None and agent is not None and (who.role, who.agent_id) == ("agent", agent.id)
