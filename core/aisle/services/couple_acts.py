"""What a person does to a couple outside the API's JSON: enroll them, take them out of
a journey, move their wedding date (confirmed or not), complete a task. The same role
rules as the API's routes (journey collaborators count), the runtime doing the work."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import msgspec

from aisle.domain.contact import Contact
from aisle.domain.enrollment_record import Enrollment
from aisle.domain.task import Task
from aisle.services.roles import Actor, ensure_journey_role, ensure_role
from aisle.storage.flow_log import CollaboratorRepository
from aisle.storage.store import OrgScope

if TYPE_CHECKING:
    from aisle.runtime.service import Runtime

__all__ = ["CoupleActs"]


class CoupleActs:
    """Acts on ``scope``'s couples as ``actor``; each is the runtime's own transaction."""

    def __init__(self, runtime: Runtime, scope: OrgScope, actor: Actor) -> None:
        store = runtime.store
        self.runtime = runtime
        self.scope = scope
        self.actor = actor
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)

    async def enroll(self, contact_id: str, journey_id: str) -> Enrollment:
        contact = await self.scope.contacts.get(contact_id)
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(self.actor, self.collaborators, journey.id, "editor", "enrolling")
        return await self.runtime.enroll(
            self.scope.org_id, contact_id=contact.id, journey_id=journey.id, actor=self.actor.actor
        )

    async def exit(self, enrollment_id: str, reason: str = "") -> Enrollment:
        enrollment = await self.scope.enrollments.get(enrollment_id)
        await ensure_journey_role(
            self.actor, self.collaborators, enrollment.journey_id, "editor", "exiting an enrollment"
        )
        return await self.runtime.exit_enrollment(
            self.scope.org_id, enrollment.id, actor=self.actor.actor, reason=reason
        )

    async def move_wedding_date(
        self, contact_id: str, wedding_date: date | None, *, confirmed: bool
    ) -> Contact:
        """Unconfirmed, a move that pending steps count from is refused
        (:class:`~aisle.runtime.errors.DateChangeNotConfirmed`), for a person to confirm."""
        contact = await self.scope.contacts.get(contact_id)
        ensure_role(self.actor, "editor", "changing a contact")
        return await self.runtime.update_contact(
            self.scope.org_id,
            msgspec.structs.replace(contact, wedding_date=wedding_date),
            confirm_date_change=confirmed,
            actor=self.actor.actor,
        )

    async def complete_task(self, task_id: str) -> Task:
        task = await self.scope.tasks.get(task_id)
        ensure_role(self.actor, "editor", "completing a task")
        return await self.runtime.complete_task(self.scope.org_id, task.id, by=self.actor.actor)
