"""Locations of the media assets shipped with the package."""

from pathlib import Path

ASSETS = Path(__file__).parent / "assets"
DEFAULT_GREETING = ASSETS / "greeting.wav"
DEFAULT_MOH = ASSETS / "moh.wav"
