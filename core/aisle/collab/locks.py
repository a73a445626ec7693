"""The lock service: leases granted, renewed and released, announced on the live stream.

The rules (atomic all-or-nothing grants, fencing tokens) live in
:mod:`aisle.storage.collab_locks`; this service checks the actor's role on the
journey, picks the lease length for the mode, owns the transaction of each change and
tells every client of the journey what changed once it is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from aisle.collab.events import LockExpired, LockGranted, LockReleased, LockRenewed
from aisle.collab.holders import Participant, holder_id, holder_of
from aisle.collab.refusals import conflict_refused, lost_refused
from aisle.collab.service import Collaboration
from aisle.domain.journey_record import Journey
from aisle.domain.user import Role
from aisle.services.roles import ensure_journey_role, ensure_role
from aisle.storage.collab_locks import (
    Acquired,
    Lock,
    LockConflict,
    LockMode,
    LockNotHeld,
    LockRepository,
    LockTarget,
    Renewed,
)
from aisle.storage.flow_log import CollaboratorRepository
from aisle.storage.store import OrgScope

__all__ = ["LockService"]


class LockService:
    """Node and edge leases on the journeys of ``scope``, taken and given as ``actor``."""

    def __init__(self, collab: Collaboration, scope: OrgScope, actor: Participant) -> None:
        self.collab = collab
        self.scope = scope
        self.actor = actor
        store = collab.store
        self.repository = LockRepository(scope.org_id, store.db, store.clock)
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)

    def now(self) -> datetime:
        """Server time, for clients to compare with ``expires_at``."""
        return self.collab.clock.now()

    async def journey(self, journey_id: str, needed: Role, what: str) -> Journey:
        """The journey (``NotFound`` outside the organization), if the actor's role on it
        is at least ``needed`` (403 otherwise)."""
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(self.actor, self.collaborators, journey.id, needed, what)
        return journey

    async def leases(self, journey_id: str) -> list[Lock]:
        """The journey's live leases (``viewer``)."""
        journey = await self.journey(journey_id, "viewer", "reading locks")
        return await self.repository.leases(journey.id)

    async def studio_leases(self) -> list[Lock]:
        """The live leases on every journey of the organization (``viewer``)."""
        ensure_role(self.actor, "viewer", "reading locks")
        return await self.repository.studio_leases()

    async def acquire(
        self,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        mode: LockMode,
        session_id: str | None = None,
    ) -> Acquired:
        """Lease every target or none (``editor``); a 409 naming each holder and expiry
        when another holder's edit lease is live on one."""
        journey = await self.journey(journey_id, "editor", "locking elements")
        holder = await holder_of(self.scope, self.actor, session_id)
        try:
            async with self.collab.store.transaction():
                result = await self.repository.acquire(
                    journey.id,
                    targets,
                    mode=mode,
                    holder=holder.id,
                    holder_name=holder.name,
                    session_id=holder.session_id,
                    lease=self.collab.config.lease(mode),
                )
        except LockConflict as exc:
            raise conflict_refused(exc) from None
        now = self.now()
        hub = self.collab.hub
        if result.replaced:
            await hub.publish(LockExpired(journey_id=journey.id, at=now, locks=result.replaced))
        await hub.publish(LockGranted(journey_id=journey.id, at=now, locks=result.granted))
        return result

    async def renew(
        self,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        mode: LockMode,
        tokens: Mapping[LockTarget, int] | None = None,
    ) -> Renewed:
        """Extend the actor's leases (``editor``); a 409 naming the ones gone, after
        extending the ones still held."""
        journey = await self.journey(journey_id, "editor", "renewing locks")
        async with self.collab.store.transaction():
            result = await self.repository.renew(
                journey.id,
                targets,
                mode=mode,
                holder=holder_id(self.actor),
                lease=self.collab.config.lease(mode),
                tokens=tokens,
            )
        if result.renewed:
            await self.collab.hub.publish(
                LockRenewed(journey_id=journey.id, at=self.now(), locks=result.renewed)
            )
        if result.lost:
            raise lost_refused(LockNotHeld(result))
        return result

    async def release(
        self,
        journey_id: str,
        targets: Iterable[LockTarget] | None,
        *,
        mode: LockMode | None = None,
    ) -> list[Lock]:
        """Give up the actor's leases (``viewer``; idempotent); returns those that were
        live."""
        journey = await self.journey(journey_id, "viewer", "releasing locks")
        # One DELETE: atomic without a transaction of its own.
        released = await self.repository.release(
            journey.id, targets, holder=holder_id(self.actor), mode=mode
        )
        if released:
            await self.collab.hub.publish(
                LockReleased(journey_id=journey.id, at=self.now(), locks=released)
            )
        return released

    async def force_release(
        self, journey_id: str, targets: Iterable[LockTarget] | None, *, reason: str = ""
    ) -> list[Lock]:
        """An ``admin`` drops other people's leases (logged in the automation log)."""
        journey = await self.journey(journey_id, "admin", "force-releasing locks")
        actor = self.actor.actor
        async with self.collab.store.transaction():
            released = await self.repository.force_release(
                journey.id, targets, actor=actor, reason=reason
            )
        if released:
            await self.collab.hub.publish(
                LockReleased(journey_id=journey.id, at=self.now(), locks=released, forced_by=actor)
            )
        return released
