"""Debian's Firefox ESR driven over WebDriver BiDi, the W3C protocol Firefox serves itself (no geckodriver).

Playwright's own Firefox is a patched build it would download, and its stock-Firefox channel needs BiDi
commands newer than ESR 140; so tests speak the protocol directly. Only what the console tests use is here:
navigate, evaluate, real mouse clicks and key presses, wait for a condition, screenshot, JavaScript errors.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.exceptions import InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from tests.support.net import free_port

FIREFOX = "/usr/bin/firefox-esr"  # Debian's package (make test installs it)
_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "network.proxy.type": 0,
}


class BidiError(RuntimeError):
    """A BiDi command failed: ``error`` is the protocol's error code."""

    def __init__(self, method: str, error: str, message: str) -> None:
        super().__init__(f"{method}: {error}: {message}")
        self.method = method
        self.error = error


class Firefox:
    """One headless Firefox with one tab."""

    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="hotline-firefox-"))
        (self.profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
                                                      for k, v in _PREFS.items()))
        port = free_port(socket.SOCK_STREAM, both=False)
        self.log = (self.profile / "firefox.log").open("wb")
        self.proc = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", str(self.profile),
                                      "--remote-debugging-port", str(port), "--width", str(width), "--height",
                                      str(height), "about:blank"], stdout=self.log, stderr=subprocess.STDOUT)
        self._ids = itertools.count(1)
        self._stack = contextlib.ExitStack()
        self.errors: list[str] = []
        try:
            self.ws = self._connect(port)
            self.command("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
            self.command("session.subscribe", {"events": ["log.entryAdded"]})
            self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]
        except BaseException:
            self.close()
            raise

    def _connect(self, port: int, timeout: float = 30) -> ClientConnection:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._stack.enter_context(connect(f"ws://127.0.0.1:{port}/session", max_size=None,
                                                         open_timeout=5))
            except (OSError, InvalidHandshake):  # not listening yet
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"Firefox's WebDriver BiDi did not start:\n{self._log_text()}") from None
                time.sleep(0.2)

    def _log_text(self) -> str:
        self.log.flush()
        return (self.profile / "firefox.log").read_text(errors="replace")[-3000:]

    def command(self, method: str, params: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        """Send one command and return its result (events seen meanwhile are kept)."""
        cid = next(self._ids)
        self.ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("type") == "event":
                self._event(msg)
            elif msg.get("id") == cid:
                if msg.get("type") == "error":
                    raise BidiError(method, msg["error"], msg.get("message", ""))
                return dict(msg["result"])

    def _event(self, msg: dict[str, Any]) -> None:
        entry = msg.get("params", {})
        if msg.get("method") == "log.entryAdded" and entry.get("level") == "error":
            self.errors.append(str(entry.get("text")))

    def goto(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page (promises awaited); the JSON value of the result."""
        result = self.command("script.evaluate", {
            "expression": f"(async () => JSON.stringify(await ({expression}) ?? null))()",
            "target": {"context": self.context}, "awaitPromise": True})
        if result.get("type") == "exception":
            raise AssertionError(f"{expression!r} threw: {result['exceptionDetails'].get('text')}")
        return json.loads(result["result"]["value"])

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                body = self.evaluate("document.body.innerText.slice(0, 1500)")
                raise AssertionError(f"not true within {timeout} s: {expression}\npage text: {body}\n"
                                     f"JavaScript errors: {self.errors}")
            time.sleep(0.1)

    def text(self, selector: str) -> str | None:
        """The text of the first element matching ``selector`` (None when there is none)."""
        return self.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent?.trim()")  # type: ignore[no-any-return]

    def click(self, selector: str) -> None:
        """A real mouse click (move, press, release) in the middle of the first element matching ``selector``."""
        self.evaluate(f"document.querySelector({json.dumps(selector)})?.scrollIntoView({{block: 'center'}})")
        nodes = self.command("browsingContext.locateNodes", {
            "context": self.context, "locator": {"type": "css", "value": selector}, "maxNodeCount": 1})["nodes"]
        if not nodes:
            raise AssertionError(f"nothing matches {selector!r}")
        origin = {"type": "element", "element": {"sharedId": nodes[0]["sharedId"]}}
        self.command("input.performActions", {"context": self.context, "actions": [
            {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
                {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]})

    def keys(self, text: str) -> None:
        """Type ``text`` as real key presses into the focused element."""
        actions: list[dict[str, str]] = []
        for ch in text:
            actions += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.command("input.performActions", {"context": self.context, "actions": [
            {"type": "key", "id": "keyboard", "actions": actions}]})

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the whole page."""
        data = self.command("browsingContext.captureScreenshot", {"context": self.context,
                                                                  "origin": "document"})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """End the session and the browser; remove the profile."""
        if hasattr(self, "ws"):
            with contextlib.suppress(Exception):  # the browser may already be gone
                self.command("session.end", {}, timeout=5)
        self._stack.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
