"""Shared helpers for tests that run real servers and peers."""
