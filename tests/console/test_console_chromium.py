"""The agent console in a real browser (Debian's Chromium, driven by Playwright) against a real server.

A registered agent phone answers a real call placed with ``hotline phone call``; the agent follows it in the
console: call card, live transcript, a knowledge-base hint, identity badge, customer panel, wrap-up. The feed
socket is also checked on its own: a dropped connection resumes after its last id, losing and repeating nothing.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from websockets.sync.client import ClientConnection, connect

from console.sessions import COOKIE
from tests.support.agents import register_phone, wait_state
from tests.support.console import CALLER, OUTPUT, PASSWORD, agent, place_call, sign_in
from tests.support.server import ServerHandle


def test_console_redirects_and_serves_its_pages_with_a_strict_policy(cserver):
    r = httpx.get(f"{cserver.http}/console", follow_redirects=True)
    assert r.status_code == 200 and "Hotline agent console" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    js = httpx.get(f"{cserver.http}/console/js/main.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]


def test_wrong_password_shows_an_error_and_sets_no_cookie(cserver, page):
    rec = agent(cserver, "olga.console")
    sign_in(page, cserver, rec["username"], "not-my-password")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    assert page.locator("#desk").is_hidden()
    assert [c for c in page.context.cookies() if c["name"] == COOKIE] == []
    sign_in(page, cserver, rec["username"])
    expect(page.locator("#agent-name")).to_have_text("Agent olga.console")
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the session token is out of the page's reach


def console_lines(page: Page, leg: str) -> list[str]:
    return page.locator(f"#transcript li.final.{leg} .text").all_inner_texts()


def test_agent_follows_a_live_call_and_files_the_wrap_up(cserver, customer, phones, page, speech_dir, tmp_path):
    rec = agent(cserver, "anna.console")
    phones.append(register_phone(cserver, rec["username"], PASSWORD, "--auto-answer", "--play",
                                 str(speech_dir / "ko_hello_8k.wav")))
    with cserver.client() as c:
        wait_state(c, rec["id"], "available")
    sign_in(page, cserver, rec["username"])
    expect(page.locator("#presence")).to_have_text("available")
    expect(page.locator("#link")).to_have_text("live")
    outcome = place_call(cserver, speech_dir / "ko_two_8k.wav", 12)

    expect(page.locator("#caller")).to_have_text(CALLER, timeout=30_000)
    expect(page.locator("#call")).to_have_attribute("data-state", "connected", timeout=30_000)
    expect(page.locator("#presence")).to_have_text("on a call")
    expect(page.locator("#customer-name")).to_have_text("Olena Kovalenko")
    expect(page.locator("#cases")).to_contain_text("Card delivery")
    expect(page.locator("#transcript li.final.caller").first).to_be_visible(timeout=30_000)
    page.evaluate("window.hotlineConsole.feed.ws.close()")  # a dropped connection mid-call: the feed resumes
    expect(page.locator("#link")).to_have_text("live", timeout=15_000)
    assert outcome.result(90)["status"] == 200
    expect(page.locator("#call")).to_have_attribute("data-state", "ended", timeout=30_000)
    call_id = page.locator("#call").get_attribute("data-call-id")
    assert call_id
    call = cserver.wait_call_ended(call_id)[0]

    with cserver.client() as c:
        segments = c.get(f"/api/v1/calls/{call_id}/transcript").json()["segments"]
    for leg in ("caller", "agent"):  # every final exactly once, in order, as the API serves it
        expect(page.locator(f"#transcript li.final.{leg}")).to_have_count(
            len([s for s in segments if s["leg"] == leg]))
        assert console_lines(page, leg) == [s["text"] for s in segments if s["leg"] == leg]
    assert page.locator("#transcript li.partial").count() == 0
    # biometrics are off in this server: the call service says so in its verification event, and the badge too
    assert call["verification"]["decision"] == "unavailable"
    expect(page.locator("#identity")).to_have_attribute("data-decision", "unavailable")
    expect(page.locator("#identity")).to_have_text("Biometrics unavailable")

    page.fill("#notes", "Customer asked about the card limit.")
    page.fill("#tags", "cards, limit")
    page.select_option("#outcome", "resolved")
    page.click("#save-wrapup")
    expect(page.locator("#wrapup-status")).to_contain_text("Saved at")
    expect(page.locator("#timeline")).to_contain_text("resolved")  # the customer's timeline is read again
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
    OUTPUT.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "console.png", OUTPUT / "console.png")

    with cserver.client() as c:
        timeline = c.get(f"/api/v1/calls/{call_id}").json()["timeline"]
        wrapups = [e for e in timeline if e["type"] == "wrapup"]
        assert [(w["outcome"], w["tags"], w["notes"], w["by"]) for w in wrapups] == [
            ("resolved", ["cards", "limit"], "Customer asked about the card limit.", rec["id"])]
        contacts = c.get(f"/api/v1/customers/{customer['id']}/timeline").json()["interactions"]
        voice = [i for i in contacts if i["call_id"] == call_id]
        assert len(voice) == 1 and voice[0]["outcome"] == "resolved" and voice[0]["tags"] == ["cards", "limit"]


def test_knowledge_base_hint_appears_and_takes_feedback(cserver, customer, phones, page, speech_dir):
    """The caller's last phrase triggers the test knowledge base's article; the agent marks it useful."""
    rec = agent(cserver, "chen.console")
    phones.append(register_phone(cserver, rec["username"], PASSWORD, "--auto-answer"))
    with cserver.client() as c:
        wait_state(c, rec["id"], "available")
    sign_in(page, cserver, rec["username"])
    expect(page.locator("#link")).to_have_text("live")
    outcome = place_call(cserver, speech_dir / "ko_two_8k.wav", 10)
    hint = page.locator('#hints li[data-hint-id="kb:card-limit"]')
    expect(hint).to_contain_text("Card limit", timeout=40_000)
    expect(hint).to_contain_text("Raise the limit in the app")
    expect(hint.locator("a.hint-link")).to_have_attribute("href", "https://kb.hotline.internal/cards/limits")
    hint.locator("button.useful").click()
    expect(hint.locator("button.useful")).to_have_attribute("aria-pressed", "true")
    assert outcome.result(90)["status"] == 200
    call_id = page.locator("#call").get_attribute("data-call-id")
    with cserver.client() as c:
        feedback = c.get(f"/api/v1/calls/{call_id}/hints/feedback").json()["feedback"]
    assert [(f["hint_id"], f["useful"], f["agent_id"]) for f in feedback] == [("kb:card-limit", True, rec["id"])]


# -- the feed socket on its own ---------------------------------------------------------------------------------


def feed_socket(server: ServerHandle, cookie: str, after: int = 0, epoch: str | None = None) -> ClientConnection:
    url = server.http.replace("http", "ws") + f"/console/ws?after={after}" + (f"&epoch={epoch}" if epoch else "")
    return connect(url, additional_headers={"Cookie": f"{COOKIE}={cookie}", "Origin": server.http})


def read_until(ws: ClientConnection, done: Any, timeout: float = 60) -> list[dict[str, Any]]:
    """Feed events (not the hello) until ``done(event)`` is true for one of them."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if msg["type"] == "hello":
            continue
        out.append(msg)
        if done(msg):
            return out


def wait_segments(server: ServerHandle, call_id: str, count: int, timeout: float = 30) -> None:
    """Wait until the call has ``count`` stored final segments."""
    deadline = time.monotonic() + timeout
    with server.client() as c:
        while time.monotonic() < deadline:
            if len(c.get(f"/api/v1/calls/{call_id}/transcript").json()["segments"]) >= count:
                return
            time.sleep(0.1)
    raise AssertionError(f"call {call_id} has fewer than {count} final segments after {timeout} s")


def test_feed_resumes_after_a_dropped_connection_without_losing_or_repeating(cserver, phones, speech_dir):
    rec = agent(cserver, "boris.console")
    phones.append(register_phone(cserver, rec["username"], PASSWORD, "--auto-answer"))
    with cserver.client() as c:
        wait_state(c, rec["id"], "available")
    with httpx.Client(base_url=cserver.http) as web:
        login = web.post("/console/login", json={"username": rec["username"], "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = web.cookies[COOKIE]
    with feed_socket(cserver, cookie) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello" and hello["presence"] == "available" and not hello["reset"]
        outcome = place_call(cserver, speech_dir / "ko_two_8k.wav", 10)
        first = read_until(ws, lambda e: e["type"] == "agent_connected")
    call_id = first[-1]["call_id"]
    seen_finals = len([e for e in first if e["type"] == "final"])
    wait_segments(cserver, call_id, seen_finals + 1)  # the caller said more while the console was away
    time.sleep(0.5)  # a final is published just after it is stored
    with feed_socket(cserver, cookie, after=first[-1]["id"], epoch=hello["epoch"]) as ws:
        again = json.loads(ws.recv(timeout=10))
        assert again["type"] == "hello" and not again["reset"] and again["last_id"] > first[-1]["id"]
        second = read_until(ws, lambda e: e["type"] == "state" and e.get("state") == "ended")
    assert outcome.result(90)["status"] == 200
    with feed_socket(cserver, cookie) as ws:
        whole = read_until(ws, lambda e: e["id"] == second[-1]["id"])
    assert [e["id"] for e in first + second] == list(range(1, second[-1]["id"] + 1))
    assert first + second == whole  # the same events, in the same order, each once
    assert {e["call_id"] for e in whole if e["type"] != "presence"} == {call_id}
    call_events = [e for e in whole if e.get("call_event_id")]
    assert [e["call_event_id"] for e in call_events] == list(range(1, len(call_events) + 1))  # from the start
    with cserver.client() as c:
        segments = c.get(f"/api/v1/calls/{call_id}/transcript").json()["segments"]
    assert [e["text"] for e in whole if e["type"] == "final"] == [s["text"] for s in segments]
    assert {e["state"] for e in whole if e["type"] == "presence"} >= {"ringing", "on_call"}
