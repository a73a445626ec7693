"""The presence service: one actor's canvas sessions on the journeys of one organization.

It checks who may join and list (reading the journey), then hands the session to the
process's :class:`~aisle.collab.presence_board.PresenceBoard`, which stores, throttles
and announces it. Heartbeats and leaving read no journey and no user: the board
refuses a session that is not the actor's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import UNSET, UnsetType

from aisle.collab.holders import Participant, holder_id, holder_of
from aisle.collab.service import Collaboration
from aisle.domain.journey_record import Journey
from aisle.domain.presence import PresenceSession
from aisle.domain.user import Role
from aisle.services.roles import ensure_journey_role, ensure_role
from aisle.storage.flow_log import CollaboratorRepository
from aisle.storage.store import OrgScope

__all__ = ["PresenceService"]


class PresenceService:
    """Presence on the journeys of ``scope``, as ``actor``."""

    def __init__(self, collab: Collaboration, scope: OrgScope, actor: Participant) -> None:
        self.collab = collab
        self.board = collab.board
        self.scope = scope
        self.actor = actor
        store = collab.store
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)

    async def journey(self, journey_id: str, needed: Role, what: str) -> Journey:
        """The journey (``NotFound`` outside the organization), if the actor's role on it
        is at least ``needed`` (403 otherwise)."""
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(self.actor, self.collaborators, journey.id, needed, what)
        return journey

    async def sessions(self, journey_id: str) -> list[PresenceSession]:
        """Who has the journey open (``viewer``), positions as last persisted."""
        journey = await self.journey(journey_id, "viewer", "reading presence")
        return await self.board.sessions(self.scope.org_id, journey.id)

    async def studio_sessions(self) -> list[PresenceSession]:
        """Who has which journey of the organization open (``viewer``)."""
        ensure_role(self.actor, "viewer", "reading presence")
        return await self.board.repository(self.scope.org_id).studio_sessions(
            idle_after=self.collab.config.presence_timeout
        )

    async def join(
        self,
        journey_id: str,
        *,
        cursor: dict[str, Any] | None = None,
        viewport: dict[str, Any] | None = None,
        selection: Sequence[str] = (),
    ) -> PresenceSession:
        """Open a session (``editor``), named as the actor's locks are."""
        journey = await self.journey(journey_id, "editor", "joining the canvas")
        holder = await holder_of(self.scope, self.actor)
        return await self.board.join(
            self.scope.org_id,
            journey.id,
            user_id=holder.id,
            display_name=holder.name,
            cursor=cursor,
            viewport=viewport,
            selection=selection,
        )

    async def heartbeat(
        self,
        journey_id: str,
        session_id: str,
        *,
        cursor: dict[str, Any] | UnsetType | None = UNSET,
        viewport: dict[str, Any] | UnsetType | None = UNSET,
        selection: Sequence[str] | UnsetType = UNSET,
    ) -> PresenceSession:
        """Record where the actor is in their session (``NotFound`` once it ended)."""
        return await self.board.heartbeat(
            self.scope.org_id,
            journey_id,
            session_id,
            user_id=holder_id(self.actor),
            cursor=cursor,
            viewport=viewport,
            selection=selection,
        )

    async def leave(self, journey_id: str, session_id: str) -> bool:
        """End the actor's session; False when it had already ended."""
        return await self.board.leave(
            self.scope.org_id, journey_id, session_id, user_id=holder_id(self.actor)
        )
