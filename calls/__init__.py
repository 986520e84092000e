"""One call end to end: the per-call service, its way to an agent (routing, consult, the agent leg), leg
recognition, the caller's profile and hints, typed call events and the event bus.

The service's collaborators see it only through the Protocols in ``calls.ports``. May import: ``core``,
``media``, ``voice``, ``asr``, ``hints``, ``privacy``, ``profiles``, ``callcenter``, ``store``, ``verification``.
"""
