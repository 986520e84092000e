"""Shared basics every package may use: the clock, roles and the principal, log context, metrics.

Imports nothing else of Hotline's.
"""
