"""The agent console: sign-in sessions, the live per-agent feed and the static pages (no build step).

May import everything below ``web`` (``calls`` and what it may import).
"""
