"""Persistence: the schema (one module per aggregate), the engine and migrations, the repositories over one
database, the single writer thread and the outage backlog. SQLAlchemy rows never leave this package.

May import: ``core``, ``privacy``, ``profiles``, ``callcenter``.
"""
