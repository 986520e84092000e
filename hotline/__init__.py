"""Hotline: a SIP voice server that answers, transcribes and routes callers to live agents."""

__version__ = "0.1.0"
