"""Helpers for the console tests: agents, calls from the customer's number, where screenshots go."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.agents import create_agent
from tests.support.server import ROOT, ServerHandle, phone_call

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "console-agent-1"
CALLER = "+380441234567"
OUTPUT = ROOT / "tests" / "output"


def agent(server: ServerHandle, username: str) -> dict[str, Any]:
    """Create an agent ``Agent <username>`` with the console tests' password."""
    with server.client() as c:
        return create_agent(c, f"Agent {username}", username, PASSWORD)


def place_call(server: ServerHandle, wav: Path, hold_s: int, caller: str = CALLER) -> Future[dict[str, Any]]:
    """Call from the test customer's number in the background; hang up ``hold_s`` after the answer."""
    return ThreadPoolExecutor(1).submit(phone_call, server.sip_uri, wav, "--hangup-after", str(hold_s),
                                        "--caller", caller)


def sign_in(page: Page, server: ServerHandle, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.http}/console/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")

