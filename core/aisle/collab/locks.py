"""The lock service: leases granted, renewed and released, announced on the live stream.

The rules (atomic all-or-nothing grants, fencing tokens) live in
:mod:`aisle.storage.collab_locks`; this service picks the lease length for the mode,
and tells every client of the journey what changed once the change is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from aisle.clock import Clock
from aisle.collab.config import CollabConfig
from aisle.collab.events import LockExpired, LockGranted, LockReleased, LockRenewed
from aisle.collab.hub import LiveHub
from aisle.storage.collab_locks import (
    Acquired,
    Lock,
    LockMode,
    LockNotHeld,
    LockRepository,
    LockTarget,
    Renewed,
)
from aisle.storage.database import Database

__all__ = ["Holder", "LockService"]


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """Who holds (or asks for) a lease: a user id (or ``token:<id>`` for a token with
    no user), the name others see, and the presence session it comes from."""

    id: str
    name: str = ""
    session_id: str | None = None


class LockService:
    """Node and edge leases of every organization, for one process."""

    def __init__(self, db: Database, clock: Clock, hub: LiveHub, config: CollabConfig) -> None:
        self.db = db
        self.clock = clock
        self.hub = hub
        self.config = config

    def repository(self, org_id: str) -> LockRepository:
        return LockRepository(org_id, self.db, self.clock)

    async def acquire(
        self,
        org_id: str,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        mode: LockMode,
        holder: Holder,
    ) -> Acquired:
        """Lease every target or none (:class:`~aisle.storage.collab_locks.LockConflict`)."""
        result = await self.repository(org_id).acquire(
            journey_id,
            targets,
            mode=mode,
            holder=holder.id,
            holder_name=holder.name,
            session_id=holder.session_id,
            lease=self.config.lease(mode),
        )
        now = self.clock.now()
        if result.replaced:
            await self.hub.publish(
                LockExpired(journey_id=journey_id, at=now, locks=result.replaced)
            )
        await self.hub.publish(LockGranted(journey_id=journey_id, at=now, locks=result.granted))
        return result

    async def renew(
        self,
        org_id: str,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        mode: LockMode,
        holder: Holder,
        tokens: Mapping[LockTarget, int] | None = None,
    ) -> Renewed:
        """Extend the holder's leases; raises :class:`LockNotHeld` (after extending the
        ones still held) when some are gone."""
        result = await self.repository(org_id).renew(
            journey_id,
            targets,
            mode=mode,
            holder=holder.id,
            lease=self.config.lease(mode),
            tokens=tokens,
        )
        if result.renewed:
            await self.hub.publish(
                LockRenewed(journey_id=journey_id, at=self.clock.now(), locks=result.renewed)
            )
        if result.lost:
            raise LockNotHeld(result)
        return result

    async def release(
        self,
        org_id: str,
        journey_id: str,
        targets: Iterable[LockTarget] | None,
        *,
        holder: Holder,
        mode: LockMode | None = None,
    ) -> list[Lock]:
        """Give up the holder's leases (idempotent); returns those that were live."""
        released = await self.repository(org_id).release(
            journey_id, targets, holder=holder.id, mode=mode
        )
        if released:
            await self.hub.publish(
                LockReleased(journey_id=journey_id, at=self.clock.now(), locks=released)
            )
        return released

    async def force_release(
        self,
        org_id: str,
        journey_id: str,
        targets: Iterable[LockTarget] | None,
        *,
        actor: str,
        reason: str = "",
    ) -> list[Lock]:
        """An admin drops other people's leases (logged in the automation log)."""
        released = await self.repository(org_id).force_release(
            journey_id, targets, actor=actor, reason=reason
        )
        if released:
            await self.hub.publish(
                LockReleased(
                    journey_id=journey_id, at=self.clock.now(), locks=released, forced_by=actor
                )
            )
        return released

    async def leases(self, org_id: str, journey_id: str) -> list[Lock]:
        return await self.repository(org_id).leases(journey_id)

    async def check_fences(
        self,
        org_id: str,
        journey_id: str,
        targets: Iterable[LockTarget],
        *,
        holder: str,
        tokens: Mapping[LockTarget, int],
    ) -> None:
        """Refuse a write on locked targets without their current fencing token
        (:class:`~aisle.storage.collab_locks.FenceRefused`). Call it inside the
        transaction that applies the write."""
        await self.repository(org_id).check_fences(
            journey_id, targets, holder=holder, tokens=tokens
        )
