"""Fixtures shared by the console tests (Chromium through Playwright, Firefox through WebDriver BiDi)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, sync_playwright

from asr.offline import decode_offline, load_model
from media.vad import VadGate
from tests.support.agents import AgentPhone
from tests.support.audio import codec_round_trip, ko_model_path
from tests.support.console import CALLER
from tests.support.server import ServerHandle, start_server


@pytest.fixture(scope="module")
def recognized(speech_dir: Path) -> list[str]:
    """What the server will recognize in the caller's audio (it decodes exactly like this offline decode)."""
    texts = decode_offline(load_model(ko_model_path()), codec_round_trip(speech_dir / "ko_two_8k.wav"),
                           VadGate(2, 300, 300)).texts
    assert texts and all(texts), texts
    return texts


@pytest.fixture(scope="module")
def cserver(tmp_path_factory: pytest.TempPathFactory, recognized: list[str]) -> Iterator[ServerHandle]:
    """Routing on, and a knowledge base of one Korean article triggered by the caller's last phrase."""
    work = tmp_path_factory.mktemp("console")
    kb = work / "knowledge"
    kb.mkdir()
    article = {"id": "card-limit", "language": "ko", "topic": "card_limit", "tags": ["cards"],
               "title": "Card limit", "answer": "Raise the limit in the app: Cards, then Limits.",
               "link": "https://kb.hotline.internal/cards/limits", "triggers": {"ko": [recognized[-1]]}}
    (kb / "test.yaml").write_text(yaml.safe_dump({"articles": [article]}, allow_unicode=True), encoding="utf-8")
    handle = start_server(work, {"routing": {"no_answer_s": 5, "wrap_up_s": 1}, "hints": {"knowledge_dir": str(kb)}})
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def customer(cserver: ServerHandle) -> dict[str, Any]:
    """The caller's customer, with one open case."""
    with cserver.client() as c:
        r = c.post("/api/v1/customers", json={"name": "Olena Kovalenko", "phones": [CALLER], "segment": "retail"})
        assert r.status_code == 201, r.text
        cust = dict(r.json())
        assert c.post(f"/api/v1/customers/{cust['id']}/cases", json={"title": "Card delivery"}).status_code == 201
    return cust


CHROMIUM = "/usr/bin/chromium"  # Debian's package (make test installs it); Playwright downloads no browser


@pytest.fixture
def phones() -> Iterator[list[AgentPhone]]:
    started: list[AgentPhone] = []
    yield started
    for p in started:
        p.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
