"""Hotline benchmarks: real calls through a real server. Run with ``python -m benchmarks.run``."""
