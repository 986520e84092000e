"""Queue announcements: espeak-ng speech, cached per text; the wait estimate."""

from __future__ import annotations

import pytest

from callcenter.announce import AnnouncementError, Announcer, expected_wait_minutes


@pytest.mark.asyncio
async def test_announcement_is_spoken_once_per_text(tmp_path):
    ann = Announcer(tmp_path, {"en": "en", "uk": "uk"})
    first = await ann.prompt("You are number 2 in the queue.", "en")
    assert first.duration_s > 0.8
    assert await ann.prompt("You are number 2 in the queue.", "en") is first
    other = await ann.prompt("Ви 3 в черзі.", "uk")
    assert other is not first and other.payloads("PCMU")
    assert len(list(tmp_path.glob("announce-*.wav"))) == 2


@pytest.mark.asyncio
async def test_unknown_voice_is_a_clear_error(tmp_path):
    ann = Announcer(tmp_path, {"xx": "no-such-voice"})
    with pytest.raises(AnnouncementError) as err:
        await ann.prompt("hello", "xx")
    assert err.value.text == "hello" and err.value.reason


def test_expected_wait_estimate():
    assert expected_wait_minutes(1, [], 1) == 1
    assert expected_wait_minutes(3, [120.0, 120.0], 1) == 6
    assert expected_wait_minutes(4, [60.0], 2) == 2
