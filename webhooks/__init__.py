"""Webhook delivery: the worker that POSTs due outbox rows, signed (timestamp + body, for a replay window), with
retries; the signing and receiver-side check (``webhooks.signing``); and its settings (https only, long secrets).

May import: ``core``, ``store``.
"""
