"""Agents, presence, the agent board, queueing, the router, routing settings and queue announcements.

Pure logic where it can be (presence, queueing); the router runs in the asyncio loop. May import: ``core``,
``media``.
"""
