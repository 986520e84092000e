"""The API contract: Schemathesis over /openapi.json of a real server, every check, no failure.

All of Schemathesis's phases run (examples, coverage, fuzzing, stateful) with a fixed seed, against
``hotline serve`` with biometrics on (so no operation answers 503 for a missing engine). Any failure
(a server error, an undocumented status code or content type, a body that breaks its schema, a
schema-valid request refused, a schema-violating one accepted, a wrong ``Allow`` header) fails the test
with Schemathesis's own report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ROOT, ServerHandle, start_server

SEED = "20261207"
EXAMPLES = "20"


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    work = tmp_path_factory.mktemp("contract")
    (work / "vp.key").write_text("5f" * 32)
    handle = start_server(work, {"asr": {"enabled": False},
                                 "biometrics": {"enabled": True, "key_file": str(work / "vp.key")}})
    yield handle
    handle.stop()


def test_every_error_has_the_one_body_shape(contract_server: ServerHandle) -> None:
    base = contract_server.http
    missing = httpx.get(f"{base}/api/v1/calls")
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    with contract_server.client() as c:
        for r, status, code in ((c.get("/api/v1/calls/nope"), 404, "not_found"),
                                (c.get("/api/v1/calls", params={"offset": 10**30}), 422, "invalid_request"),
                                (c.get("/api/v1/calls", params={"until": "0.5"}), 422, "invalid_request"),
                                (c.post("/api/v1/agents", content=b"{not json", headers={
                                    "content-type": "application/json"}), 400, "bad_request"),
                                (c.request("OPTIONS", "/api/v1/agents"), 405, "method_not_allowed")):
            assert r.status_code == status, r.text
            body = r.json()
            assert body["error"] == code and body["detail"], body
    allow = httpx.request("OPTIONS", f"{base}/api/v1/agents").headers["allow"]
    assert allow == "GET, POST"  # both routes at this path, not only the first one's
    schema = httpx.get(f"{base}/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    calls = schema["paths"]["/api/v1/calls/{call_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422", "503"} <= set(calls)
    assert calls["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"


def test_schemathesis_finds_nothing(contract_server: ServerHandle, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("schemathesis")
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.web.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([str(cli), "run", f"{contract_server.http}/openapi.json",
                          "-H", f"Authorization: Bearer {contract_server.key}", "--checks", "all",
                          "--max-examples", EXAMPLES, "--seed", SEED, "--workers", "1", "--no-color"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    report = run.stdout[-20_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout or " 0 failures" in run.stdout or "passed" in run.stdout, report
