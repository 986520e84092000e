"""The caller's customer during a call: found by number, claimed for passive verification, and the voice
interaction on their timeline, updated with every new verification decision."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from calls.hintprofile import profile_card, profile_context
from calls.hints import CallHints
from core.events import CallEventModel, CustomerProfileShown
from store.backlog import StoreUnavailableError
from store.store import Store
from verification.passive import SYSTEM, CallVerification

log = logging.getLogger("hotline.call")
LOOKUP_TIMEOUT_S = 1.0  # the caller's queue priority waits this long at most for their customer record


class CallProfile:
    """The customer side of one call; every step may fail without touching the call itself."""

    def __init__(self, store: Store, call_id: str, publish: Callable[[CallEventModel], None],
                 verification: CallVerification, hints: CallHints | None) -> None:
        self.store = store
        self.call_id = call_id
        self.publish = publish
        self.verification = verification
        self.hints = hints
        self._handed_decision: str | None = None

    async def by_phone(self, number: str | None) -> Any:
        """The customer with the caller's number; None when unknown, or when the lookup fails or takes longer
        than LOOKUP_TIMEOUT_S (the caller is queued without a profile rather than kept waiting)."""
        if not number:
            return None
        try:
            return await asyncio.wait_for(self.store.run(self.store.customers.by_phone, number), LOOKUP_TIMEOUT_S)
        except TimeoutError:
            log.warning("customer lookup took over %.1f s; the call is routed without a profile", LOOKUP_TIMEOUT_S)
        except StoreUnavailableError as exc:
            log.warning("customer lookup skipped (%s); the call is routed without a profile", exc)
        except Exception:
            log.exception("customer lookup failed; the call is routed without a profile")
        return None

    async def open(self, customer: Any) -> None:
        """Claim the customer for passive verification, then open the voice interaction on their timeline."""
        reason = "caller number" if customer else "no customer has the caller's number"
        try:
            await self.verification.claim(customer.id if customer else None, SYSTEM, reason)
        except Exception:
            log.exception("could not start passive verification; the call goes on")
        await self._open_interaction()

    async def _open_interaction(self) -> None:
        """The voice interaction (a provisional customer for an unknown number), the profile card for the
        agent, and the profile for the hint rules."""
        store = self.store
        try:
            record = await store.run(store.timeline.record_voice_interaction, self.call_id)
            if record.customer_id is None:
                return
            customer = await store.run(store.customers.get, record.customer_id)
            if customer is not None:
                self.publish(CustomerProfileShown(interaction_id=record.id, **profile_card(customer)))
            if self.hints is not None:
                hint_ctx = await store.run(profile_context, store, record.customer_id, self.call_id)
                if hint_ctx is not None:
                    self.hints.on_profile(hint_ctx)
        except StoreUnavailableError as exc:  # the hand-off at hang-up is parked and replayed instead
            log.warning("no profile for the agent (%s); the call goes on", exc)
        except Exception:
            log.exception("could not open the interaction on the customer timeline; the call goes on")

    def verified(self, data: dict[str, Any]) -> None:
        """A verification event: hints learn the decision; the timeline (and CRMs) hear of each new one."""
        decision = data.get("decision")
        if self.hints is not None:
            self.hints.on_verification(decision)
        if decision not in ("pending", None) and decision != self._handed_decision:
            self._handed_decision = decision
            self.store.submit(self.store.timeline.record_voice_interaction, self.call_id, {"verification": dict(data)})
