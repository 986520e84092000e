"""Queue announcements ("you are number 2 in the queue ...") spoken by espeak-ng, cached per text.

The text comes from per-language templates in the routing settings; audio is made
once per distinct text in a worker thread and kept as an encoded prompt.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

from media.prompt import Prompt, PromptError

log = logging.getLogger("hotline.routing")


class AnnouncementError(RuntimeError):
    """espeak-ng is missing or failed."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"cannot speak {text!r}: {reason}")
        self.text = text
        self.reason = reason


def expected_wait_minutes(position: int, recent_waits: list[float], free_soon: int) -> int:
    """A rough, honest estimate: the recent average wait per queue place, at least one minute."""
    per_place = sum(recent_waits) / len(recent_waits) if recent_waits else 60.0
    return max(1, round(position * per_place / max(1, free_soon) / 60))


class Announcer:
    """Turns announcement texts into prompts (espeak-ng, 16 kHz WAV)."""

    def __init__(self, cache_dir: Path, voices: dict[str, str]) -> None:
        self.cache_dir = cache_dir
        self.voices = voices
        self._prompts: dict[str, Prompt] = {}

    async def prompt(self, text: str, language: str) -> Prompt:
        """The spoken ``text`` (made once)."""
        key = hashlib.sha256(f"{language}\0{text}".encode()).hexdigest()[:24]
        found = self._prompts.get(key)
        if found is None:
            found = await asyncio.to_thread(self._make, key, text, language)
            self._prompts[key] = found
        return found

    def _make(self, key: str, text: str, language: str) -> Prompt:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise AnnouncementError(text, "espeak-ng is not installed")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / f"announce-{key}.wav"
        voice = self.voices.get(language, language)
        if not _voice_exists(exe, voice):
            raise AnnouncementError(text, f"espeak-ng has no voice {voice!r}")  # it would fall back silently
        proc = subprocess.run([exe, "-v", voice, "-s", "150", "-w", str(path), text], capture_output=True,
                              text=True, timeout=30)
        if proc.returncode != 0:
            raise AnnouncementError(text, proc.stderr.strip() or f"exit {proc.returncode}")
        try:
            return Prompt(path)
        except PromptError as exc:
            raise AnnouncementError(text, str(exc)) from exc


def _voice_exists(exe: str, voice: str) -> bool:
    """Whether espeak-ng knows ``voice`` by language code or voice file (``--voices=X`` lists near matches)."""
    out = subprocess.run([exe, f"--voices={voice}"], capture_output=True, text=True, timeout=10).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names.update({cols[1], cols[4].rsplit("/", 1)[-1]})
            names.update(part.strip("()") for part in cols[5:] if part.startswith("("))
    return voice in names
