"""Webhook delivery: the worker that POSTs due outbox rows, signed, with retries, and its settings.

May import: ``core``, ``store``.
"""
