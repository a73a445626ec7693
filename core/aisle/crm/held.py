"""Held changes: CRM changes left for a person, confirmed or rejected in one call.

Confirming applies the change through the runtime as a confirmed date change, so the
couple's date-relative steps are rescheduled in the same transaction; rejecting keeps
Aisle's value (the next sync leaves it alone until the CRM changes it again).
"""

from __future__ import annotations

from aisle.contracts.log import LogKind
from aisle.crm.deps import CRMDeps
from aisle.crm.mapping import apply_values
from aisle.domain.held_change import HeldChange, HeldChangeStatus
from aisle.services.errors import Refused
from aisle.services.roles import Actor, ensure_role
from aisle.storage.crm_records import HeldChangeRepository
from aisle.storage.store import OrgScope

__all__ = ["HeldChanges"]


class HeldChanges:
    """The held changes of ``scope``, decided as ``actor`` (editors)."""

    def __init__(self, deps: CRMDeps, scope: OrgScope, actor: Actor) -> None:
        self.deps = deps
        self.scope = scope
        self.actor = actor
        self.repo = HeldChangeRepository(scope.org_id, deps.store.db, deps.store.clock)

    async def list(
        self,
        *,
        status: HeldChangeStatus | None = "pending",
        contact_id: str | None = None,
        connection_id: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[HeldChange]:
        ensure_role(self.actor, "viewer", "reading held CRM changes")
        return await self.repo.list(
            status=status,
            contact_id=contact_id,
            connection_id=connection_id,
            limit=limit,
            before=before,
        )

    async def get(self, held_id: str) -> HeldChange:
        ensure_role(self.actor, "viewer", "reading a held CRM change")
        return await self.repo.get(held_id)

    async def confirm(self, held_id: str) -> HeldChange:
        """Apply the held change (date-relative steps rescheduled) and mark it confirmed."""
        ensure_role(self.actor, "editor", "confirming a held CRM change")
        async with self.deps.store.transaction():
            held = await self._decide(held_id, "confirmed")
            contact = await self.scope.contacts.get(held.contact_id)
            await self.deps.runtime.update_contact(
                self.scope.org_id,
                apply_values(contact, {held.field: held.new}),
                confirm_date_change=True,
                actor=self.actor.actor,
            )
            await self._log(LogKind.CRM_CHANGE_CONFIRMED, held, "confirmed and applied")
        return held

    async def reject(self, held_id: str) -> HeldChange:
        """Drop the held change; Aisle keeps its value."""
        ensure_role(self.actor, "editor", "rejecting a held CRM change")
        async with self.deps.store.transaction():
            held = await self._decide(held_id, "rejected")
            await self._log(LogKind.CRM_CHANGE_REJECTED, held, "rejected; Aisle keeps its value")
        return held

    async def _decide(self, held_id: str, status: HeldChangeStatus) -> HeldChange:
        current = await self.repo.get(held_id)
        decided = await self.repo.decide(held_id, status, by=self.actor.actor)
        if decided is None:
            raise Refused(
                409,
                f"held change {held_id!r} is {current.status} already",
                extra={"status": current.status},
            )
        return decided

    async def _log(self, kind: LogKind, held: HeldChange, what: str) -> None:
        await self.scope.log.append(
            kind,
            actor=self.actor.actor,
            message=f"CRM change of {held.field} from {held.old!r} to {held.new!r} {what}",
            contact_id=held.contact_id,
            data={
                "held_change_id": held.id,
                "field": held.field,
                "connection_id": held.connection_id,
            },
        )
