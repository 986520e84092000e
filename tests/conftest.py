"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audio import make_speech
from tests.support.server import NO_AGENTS, ServerHandle, start_server


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Korean test speech files (espeak-ng), made once per run."""
    d = tmp_path_factory.mktemp("speech")
    make_speech(d / "ko_two_8k.wav")
    make_speech(d / "ko_hello_8k.wav", phrases=(("안녕하세요", 150),))
    make_speech(d / "ko_two_16k.wav", rate=16000)
    return d


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """One real Hotline (SIP+RTP+ASR+API) for the session, with the Korean test model."""
    handle = start_server(tmp_path_factory.mktemp("server"), {"media": {"record_calls": True}, **NO_AGENTS})
    yield handle
    handle.stop()
