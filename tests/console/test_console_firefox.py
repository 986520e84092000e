"""The agent console in Debian's Firefox ESR (driven over WebDriver BiDi) during a real call.

The same flow as the Chromium test: sign in, call card, live transcript equal to the stored one, a
knowledge-base hint, the identity badge, the customer panel and the wrap-up, with no JavaScript errors.
Text goes in as real key presses and buttons get real mouse clicks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agents import register_phone, wait_state
from tests.support.console import CALLER, OUTPUT, PASSWORD, agent, place_call
from tests.support.firefox import FIREFOX, Firefox
from tests.support.server import ServerHandle


@pytest.fixture(scope="module")
def firefox() -> Iterator[Firefox]:
    if not Path(FIREFOX).exists():
        pytest.fail(f"{FIREFOX} is missing: `make test` installs Debian's firefox-esr package")
    browser = Firefox()
    yield browser
    browser.close()


def _is(selector: str, js_test: str) -> str:
    """A JavaScript condition on the first element matching ``selector`` (called ``e``)."""
    return f"(e => !!e && ({js_test}))(document.querySelector({json.dumps(selector)}))"


def _type_into(ff: Firefox, selector: str, text: str) -> None:
    ff.click(selector)
    ff.keys(text)


def test_console_in_firefox(cserver: ServerHandle, customer, firefox: Firefox, speech_dir: Path,
                                              tmp_path: Path):
    ff = firefox
    rec = agent(cserver, "dana.firefox")
    phone = register_phone(cserver, rec["username"], PASSWORD, "--auto-answer", "--play",
                           str(speech_dir / "ko_hello_8k.wav"))
    try:
        with cserver.client() as c:
            wait_state(c, rec["id"], "available")
        ff.goto(f"{cserver.http}/console/")
        _type_into(ff, "#username", rec["username"])
        _type_into(ff, "#password", PASSWORD)
        ff.click("#login-form button[type=submit]")
        ff.wait_for(_is("#agent-name", "e.textContent === 'Agent dana.firefox'"))
        assert ff.evaluate("document.cookie") == ""  # the HttpOnly session cookie is out of the page's reach
        ff.wait_for(_is("#link", "e.textContent === 'live'"))
        outcome = place_call(cserver, speech_dir / "ko_two_8k.wav", 12)

        ff.wait_for(_is("#caller", f"e.textContent === {json.dumps(CALLER)}"))
        ff.wait_for(_is("#call", "e.dataset.state === 'connected'"))
        ff.wait_for(_is("#customer-name", "e.textContent === 'Olena Kovalenko'"))
        # the name and the open cases come from two requests: either may land first
        ff.wait_for(_is("#cases", "e.textContent.includes('Card delivery')"))
        hint = '#hints li[data-hint-id="kb:card-limit"]'
        ff.wait_for(_is(hint, "e.textContent.includes('Card limit')"), timeout=40)
        assert outcome.result(90)["status"] == 200
        ff.wait_for(_is("#call", "e.dataset.state === 'ended'"))
        call_id = ff.evaluate("document.querySelector('#call').dataset.callId")
        call = cserver.wait_call_ended(call_id)[0]
        with cserver.client() as c:
            segments = c.get(f"/api/v1/calls/{call_id}/transcript").json()["segments"]
        caller_texts = [s["text"] for s in segments if s["leg"] == "caller"]
        lines = "[...document.querySelectorAll('#transcript li.final.caller .text')].map(e => e.textContent)"
        ff.wait_for(f"{lines}.length === {len(caller_texts)}")
        assert ff.evaluate(lines) == caller_texts
        assert call["verification"]["decision"] == "unavailable"
        ff.wait_for(_is("#identity", "e.dataset.decision === 'unavailable'"))

        _type_into(ff, "#notes", "Asked about the card limit.")
        _type_into(ff, "#tags", "cards")
        # a <select>'s drop-down is native UI outside the page: the choice is made the way the page sees it
        ff.evaluate("(s => { s.value = 'resolved'; s.dispatchEvent(new Event('change', {bubbles: true})); })"
                    "(document.querySelector('#outcome'))")
        ff.click("#save-wrapup")
        ff.wait_for(_is("#wrapup-status", "e.textContent.includes('Saved at')"))
        ff.wait_for(_is("#timeline", "e.textContent.includes('resolved')"))  # the customer's timeline is read again
        assert ff.text("#customer-name") == "Olena Kovalenko"
        ff.screenshot(tmp_path / "console-firefox.png")
        OUTPUT.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "console-firefox.png", OUTPUT / "console-firefox.png")
        with cserver.client() as c:
            timeline = c.get(f"/api/v1/calls/{call_id}").json()["timeline"]
        wrapups = [(e["outcome"], e["tags"], e["notes"], e["by"]) for e in timeline if e["type"] == "wrapup"]
        assert wrapups == [("resolved", ["cards"], "Asked about the card limit.", rec["id"])]
        assert ff.errors == [], f"JavaScript errors in Firefox: {ff.errors}"
    finally:
        phone.stop()
