"""Who may act on which call and read which customer: the ownership rules on top of the role checks.

* ``admin`` and ``supervisor`` act on every call; ``security`` and ``integration`` read every call and act on
  none (security may still claim a customer, the voiceprint team's job).
* An ``agent`` reads and acts only on **their own calls**: the call their phone rings for, is on or wraps up
  (the agent board), a call the store records them on, and a call they were offered or consulted on.
* An ``agent`` reads only **the customer of their current call** (claimed on it, or found by its number); the
  call they took last counts as current for ``AFTER_CALL_S`` after it ended (wrap-up, follow-up notes).
"""

from __future__ import annotations

from fastapi import HTTPException

from calls.context import AppContext
from core.clock import utcnow
from core.roles import Principal

AFTER_CALL_S = 15 * 60  # the customer of the call just handled stays readable this long (wrap-up, notes)
OWNING_EVENTS = frozenset({"offered", "agent_connected", "consult_started", "consult_connected"})
EVERY_CALL = frozenset({"admin", "supervisor", "security", "integration"})
ACT_ON_EVERY_CALL = frozenset({"admin", "supervisor"})


def _live_call_of(ctx: AppContext, agent_id: str) -> str | None:
    presence = ctx.board.find(agent_id)
    return presence.call_id if presence is not None else None


async def owns_call(ctx: AppContext, who: Principal, call_id: str) -> bool:
    """Whether an agent principal holds, is offered, or handled ``call_id``."""
    if who.agent_id is None:
        return False
    if _live_call_of(ctx, who.agent_id) == call_id:
        return True
    record = await ctx.store.run(ctx.store.calls.get, call_id)
    if record is None:
        return False
    if record.agent_id == who.agent_id:
        return True
    events = await ctx.store.run(ctx.store.calls.events, call_id)  # offered, or consulted, earlier
    return any(e.get("type") in OWNING_EVENTS and e.get("agent_id") == who.agent_id for e in events)


async def require_call_read(ctx: AppContext, who: Principal, call_id: str) -> None:
    """403 unless ``who`` may read ``call_id``."""
    if who.role in EVERY_CALL or (who.role == "agent" and await owns_call(ctx, who, call_id)):
        return
    raise HTTPException(403, "an agent reads only their own calls")


async def require_call_act(ctx: AppContext, who: Principal, call_id: str,
                           also: frozenset[str] = frozenset()) -> None:
    """403 unless ``who`` may act on ``call_id`` (``also``: other roles allowed for this action)."""
    if who.role in ACT_ON_EVERY_CALL or who.role in also or (
            who.role == "agent" and await owns_call(ctx, who, call_id)):
        return
    raise HTTPException(403, "an agent acts only on calls they hold or are offered")


async def audit_raw_read(ctx: AppContext, who: Principal, what: str, call_id: str | None = None,
                         customer_id: str | None = None) -> None:
    """Write an unredacted read (transcript, live events, timeline) to the audit log; parked if the database
    is down, like the other audit entries."""
    actor = f"{who.name or 'key'}#{who.key_id}"
    await ctx.store.submit(ctx.store.audit.write, actor, who.role, "raw_read", "served", customer_id, call_id,
                           {"what": what})


async def _current_call(ctx: AppContext, agent_id: str) -> str | None:
    """The call the agent is on, or the one they took last if it ended less than ``AFTER_CALL_S`` ago."""
    live = _live_call_of(ctx, agent_id)
    if live is not None:
        return live
    _, newest = await ctx.store.run(ctx.store.calls.find, None, None, None, 1, 0, agent_id)
    if not newest:
        return None
    ended = newest[0].ended_at
    if ended is None or (utcnow() - ended).total_seconds() <= AFTER_CALL_S:
        return newest[0].id
    return None


async def current_customer(ctx: AppContext, agent_id: str) -> str | None:
    """The customer of the agent's current call: claimed on it, else the one its voice interaction is
    filed under (the caller's number)."""
    call_id = await _current_call(ctx, agent_id)
    if call_id is None:
        return None
    live = ctx.active.get(call_id)
    claimed = getattr(getattr(live, "verification", None), "customer_id", None)
    if claimed is not None:
        return str(claimed)
    record = await ctx.store.run(ctx.store.calls.get, call_id)
    if record is not None and record.customer_id is not None:
        return record.customer_id
    interaction = await ctx.store.run(ctx.store.timeline.interaction_for_call, call_id)
    return interaction.customer_id if interaction is not None else None


async def require_customer_read(ctx: AppContext, who: Principal, customer_id: str) -> None:
    """403 unless ``who`` may read ``customer_id`` (an agent: only their current call's customer)."""
    if who.role != "agent":
        return
    if who.agent_id is not None and await current_customer(ctx, who.agent_id) == customer_id:
        return
    raise HTTPException(403, "an agent reads only the customer of their current call")
