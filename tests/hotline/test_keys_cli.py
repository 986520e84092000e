"""``hotline keys create``."""

from __future__ import annotations

from store.store import Store
from tests.support.server import run_cli


def test_keys_create_prints_the_key_last(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    proc = run_cli("keys", "create", "--role", "agent", "--name", "desk 7", "--db", url)
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    key = lines[-1]
    assert key.startswith("hk_") and " " not in key
    assert len(key) > 40
    assert "agent" in lines[0]
    assert (tmp_path / "x.db").is_file()
    store = Store(url)
    try:
        who = store.keys.authenticate(key)
        assert who is not None
        assert (who.role, who.name) == ("agent", "desk 7")
    finally:
        store.close()


def test_keys_create_unknown_role_exits_2_without_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    proc = run_cli("keys", "create", "--role", "bogus", "--db", url, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "error: unknown role 'bogus'" in proc.stderr
    assert "admin, agent, security, integration" in proc.stderr
    assert "hk_" not in proc.stdout
