"""Node locks and presence sessions of one organization: plain scoped row access.

The lock rules (leases, fencing, batch acquire) live in the collaboration service;
these repositories only read and write rows, always inside the organization.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from aisle.domain.node_lock import LockMode, NodeLock
from aisle.domain.presence import PresenceSession
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, load, utc
from aisle.storage.scoped import Scoped
from aisle.storage.tables import NodeLockTable as L
from aisle.storage.tables import PresenceSessionTable as P

__all__ = ["NodeLockRepository", "PresenceRepository", "lock_from_row", "presence_from_row"]


def lock_from_row(row: dict[str, Any]) -> NodeLock:
    return NodeLock(
        id=row["id"],
        organization_id=row["organization_id"],
        journey_id=row["journey_id"],
        node_id=row["node_id"],
        holder=row["holder"],
        holder_name=row["holder_name"],
        mode=row["mode"],
        fencing_token=int(row["fencing_token"]),
        acquired_at=utc(row["acquired_at"]),
        expires_at=utc(row["expires_at"]),
    )


def presence_from_row(row: dict[str, Any]) -> PresenceSession:
    return PresenceSession(
        id=row["id"],
        organization_id=row["organization_id"],
        journey_id=row["journey_id"],
        user_id=row["user_id"],
        display_name=row["display_name"],
        color=row["color"],
        cursor=load(row["cursor"]),
        viewport=load(row["viewport"]),
        selection=tuple(load(row["selection"]) or ()),
        joined_at=utc(row["joined_at"]),
        last_seen_at=utc(row["last_seen_at"]),
    )


class NodeLockRepository(Scoped):
    table = L
    kind = "node lock"

    async def list(
        self, journey_id: str, *, now: datetime | None = None
    ) -> builtins.list[NodeLock]:
        """Locks on a journey's nodes; with ``now``, only unexpired ones."""
        rows = await self._select(
            L.journey_id == journey_id, L.expires_at > now if now else None
        ).order_by(L.node_id)
        return [lock_from_row(r) for r in rows]

    async def for_node(self, journey_id: str, node_id: str) -> builtins.list[NodeLock]:
        rows = await self._select(L.journey_id == journey_id, L.node_id == node_id)
        return [lock_from_row(r) for r in rows]

    async def insert(
        self,
        *,
        journey_id: str,
        node_id: str,
        holder: str,
        mode: LockMode,
        fencing_token: int,
        expires_at: datetime,
        holder_name: str = "",
    ) -> NodeLock:
        rows = await L.insert(
            self._row(
                id=new_id(),
                journey_id=journey_id,
                node_id=node_id,
                holder=holder,
                holder_name=holder_name,
                mode=mode,
                fencing_token=fencing_token,
                acquired_at=self.clock.now(),
                expires_at=expires_at,
            )
        ).returning(*L.all_columns())
        return lock_from_row(rows[0])

    async def extend(self, lock_id: str, expires_at: datetime) -> NodeLock:
        rows = await self._update({L.expires_at: expires_at}, L.id == lock_id).returning(
            *L.all_columns()
        )
        if not rows:
            raise NotFound("node lock", lock_id)
        return lock_from_row(rows[0])

    async def remove(self, lock_id: str) -> bool:
        rows = await self._delete(L.id == lock_id).returning(L.id)
        return bool(rows)

    async def remove_expired(self, now: datetime) -> int:
        rows = await self._delete(L.expires_at <= now).returning(L.id)
        return len(rows)

    async def max_fencing_token(self, journey_id: str, node_id: str) -> int:
        row = (
            await self._select(L.journey_id == journey_id, L.node_id == node_id)
            .columns(L.fencing_token)
            .order_by(L.fencing_token, ascending=False)
            .first()
        )
        return int(row["fencing_token"]) if row else 0


class PresenceRepository(Scoped):
    table = P
    kind = "presence session"

    async def join(
        self, *, journey_id: str, user_id: str, display_name: str = "", color: str = ""
    ) -> PresenceSession:
        now = self.clock.now()
        rows = await P.insert(
            self._row(
                id=new_id(),
                journey_id=journey_id,
                user_id=user_id,
                display_name=display_name,
                color=color,
                selection="[]",
                joined_at=now,
                last_seen_at=now,
            )
        ).returning(*P.all_columns())
        return presence_from_row(rows[0])

    async def heartbeat(
        self,
        session_id: str,
        *,
        cursor: dict[str, Any] | None = None,
        viewport: dict[str, Any] | None = None,
        selection: builtins.list[str] | None = None,
    ) -> PresenceSession:
        values: dict[Any, Any] = {P.last_seen_at: self.clock.now()}
        if cursor is not None:
            values[P.cursor] = dump(cursor)
        if viewport is not None:
            values[P.viewport] = dump(viewport)
        if selection is not None:
            values[P.selection] = dump(selection)
        rows = await self._update(values, P.id == session_id).returning(*P.all_columns())
        if not rows:
            raise NotFound("presence session", session_id)
        return presence_from_row(rows[0])

    async def leave(self, session_id: str) -> bool:
        return bool(await self._delete(P.id == session_id).returning(P.id))

    async def list(
        self, journey_id: str, *, seen_since: datetime | None = None
    ) -> builtins.list[PresenceSession]:
        rows = await self._select(
            P.journey_id == journey_id, P.last_seen_at >= seen_since if seen_since else None
        ).order_by(P.joined_at)
        return [presence_from_row(r) for r in rows]

    async def remove_stale(self, seen_before: datetime) -> int:
        return len(await self._delete(P.last_seen_at < seen_before).returning(P.id))
