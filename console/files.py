"""Where the console's static pages (HTML, CSS, JavaScript; no build step) live."""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
