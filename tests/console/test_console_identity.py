"""The identity badge in a real browser, with voice biometrics on: a replayed enrolment recording.

The customer is enrolled from three recordings; the caller plays one of them into a real call. The agent's
console (Chromium) must show the decision ``suspected_replay`` with high risk, list the reasons under the
badge (score margin, net speech, the replay match, the caller number's trust) and whisper the replay hint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.agents import AgentPhone, register_phone, wait_state
from tests.support.console import PASSWORD, agent, place_call, sign_in
from tests.support.server import ServerHandle, run_cli, start_server
from tests.verification.test_voiceprints import CONSENT, KEY_HEX, clips, joined, upload

REPLAY_CALLER = "+380441234568"


@pytest.fixture(scope="module")
def bioserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    work = tmp_path_factory.mktemp("console-bio")
    (work / "vp.key").write_text(KEY_HEX)
    handle = start_server(work, {"biometrics": {"enabled": True, "key_file": str(work / "vp.key")},
                                 "asr": {"enabled": False}, "routing": {"no_answer_s": 5, "wrap_up_s": 1}})
    yield handle
    handle.stop()


def test_the_badge_shows_a_suspected_replay_with_its_reasons_and_the_hint(
        bioserver: ServerHandle, phones: list[AgentPhone], page: Page, speech_dir: Path, tmp_path: Path) -> None:
    takes = [joined(clips("lucas", range(i, i + 1)), tmp_path / f"take{i}.wav") for i in range(3)]
    security = run_cli("keys", "create", "--role", "security", "--db", bioserver.db_url).stdout.split()[-1]
    with bioserver.client() as c:
        cid = c.post("/api/v1/customers", json={"name": "Lucas Replay", "phones": [REPLAY_CALLER]}).json()["id"]
    with bioserver.client(security) as c:
        r = c.post(f"/api/v1/customers/{cid}/voiceprint", data={"consent": json.dumps(CONSENT)},
                   files=upload(takes))
        assert r.status_code == 201, r.text
    rec = agent(bioserver, "vera.identity")
    phones.append(register_phone(bioserver, rec["username"], PASSWORD, "--auto-answer", "--play",
                                 str(speech_dir / "ko_hello_8k.wav")))
    with bioserver.client() as c:
        wait_state(c, rec["id"], "available")
    sign_in(page, bioserver, rec["username"])
    expect(page.locator("#link")).to_have_text("live")
    outcome = place_call(bioserver, takes[1], 10, caller=REPLAY_CALLER)

    expect(page.locator("#customer-name")).to_have_text("Lucas Replay", timeout=30_000)
    badge = page.locator("#identity")
    expect(badge).to_have_attribute("data-decision", "suspected_replay", timeout=40_000)
    expect(badge).to_have_attribute("data-risk", "high")
    expect(badge).to_contain_text("Suspected replay · high risk")
    reasons = page.locator("#identity-reasons li")
    expect(reasons.filter(has_text="replay suspected: matches enrolment recording 2")).to_have_count(1)
    expect(reasons.filter(has_text="net speech")).to_have_count(1)
    expect(reasons.filter(has_text="caller number:")).to_have_count(1)
    expect(page.locator('#hints li[data-hint-id="rule:suspected_replay"]')).to_be_visible()
    assert outcome.result(90)["status"] == 200
