"""Presence sessions: who has a journey open, in which colour, and where they look.

A session is one open canvas (a browser tab). Users in one journey get distinct
colours; a user's second tab shares the first one's colour. A session lives while its
heartbeats keep ``last_seen_at`` within the timeout; the sweep removes the rest.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from aisle.domain.presence import PresenceSession
from aisle.storage.database import Database
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import PresenceSessionTable

__all__ = [
    "PALETTE",
    "Joined",
    "PresenceRepository",
    "pick_colour",
    "sweep_presence",
]

PALETTE: tuple[str, ...] = (
    "#E5484D",
    "#0091FF",
    "#30A46C",
    "#F76808",
    "#8E4EC6",
    "#12A594",
    "#D6409F",
    "#AD7F58",
    "#3E63DD",
    "#5D9C1A",
    "#00A2C7",
    "#C2298A",
)
"""Cursor colours, chosen to stay apart from each other on a light canvas."""


def _generated(index: int) -> str:
    # Past the palette: golden-angle hues, never equal to each other.
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.75)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def pick_colour(used: Iterable[str]) -> str:
    """The first palette colour nobody in ``used`` has (generated ones after that)."""
    taken = {c.upper() for c in used}
    for colour in PALETTE:
        if colour not in taken:
            return colour
    index = len(PALETTE)
    while True:
        colour = _generated(index)
        if colour not in taken:
            return colour
        index += 1


class Joined(msgspec.Struct, frozen=True, kw_only=True):
    """A new session, and the sessions of that journey found timed out meanwhile."""

    session: PresenceSession
    timed_out: list[PresenceSession] = []


_COLUMNS = (
    "id, organization_id, journey_id, user_id, display_name, color, cursor, viewport, "
    "selection, joined_at, last_seen_at"
)


def _session(row: dict[str, Any]) -> PresenceSession:
    return from_row(PresenceSession, PresenceSessionTable, row)


def _json_or_null(value: Any) -> str | None:
    return None if value is None else dump(value)


class PresenceRepository(Scoped):
    """Presence sessions of one organization's journeys."""

    table = PresenceSessionTable
    kind = "presence session"

    async def join(
        self,
        journey_id: str,
        *,
        user_id: str,
        display_name: str,
        idle_after: timedelta,
        cursor: dict[str, Any] | None = None,
        viewport: dict[str, Any] | None = None,
        selection: Sequence[str] = (),
    ) -> Joined:
        """Open a session with a colour no other user in the journey has."""
        now = self.clock.now()
        async with self.db.transaction():
            if self.db.is_postgres:
                # Colour choice reads then writes: one joiner per journey at a time.
                await self.db.execute(
                    "SELECT pg_advisory_xact_lock(hashtext({}))", f"presence:{journey_id}"
                )
            rows = await self.db.execute(
                "SELECT id FROM journeys WHERE organization_id = {} AND id = {} "
                "AND deleted_at IS NULL",
                self.org_id,
                journey_id,
            )
            if not rows:
                raise NotFound("journey", journey_id)
            stale = await self.db.execute(
                "DELETE FROM presence_sessions WHERE organization_id = {} AND journey_id = {} "
                f"AND last_seen_at <= {{}} RETURNING {_COLUMNS}",
                self.org_id,
                journey_id,
                now - idle_after,
            )
            live = await self.db.execute(
                "SELECT user_id, color FROM presence_sessions WHERE organization_id = {} "
                "AND journey_id = {} ORDER BY joined_at",
                self.org_id,
                journey_id,
            )
            mine = [r["color"] for r in live if r["user_id"] == user_id]
            colour = mine[0] if mine else pick_colour(r["color"] for r in live)
            inserted = await self.db.execute(
                f"INSERT INTO presence_sessions ({_COLUMNS}) VALUES "
                f"({', '.join(['{}'] * 11)}) RETURNING {_COLUMNS}",
                new_id(),
                self.org_id,
                journey_id,
                user_id,
                display_name,
                colour,
                _json_or_null(cursor),
                _json_or_null(viewport),
                dump(list(selection)),
                now,
                now,
            )
        return Joined(
            session=_session(inserted[0]), timed_out=sorted(map(_session, stale), key=_by_id)
        )

    async def touch(
        self,
        journey_id: str,
        session_id: str,
        *,
        user_id: str,
        cursor: dict[str, Any] | UnsetType | None = UNSET,
        viewport: dict[str, Any] | UnsetType | None = UNSET,
        selection: Sequence[str] | UnsetType = UNSET,
    ) -> PresenceSession:
        """Record a heartbeat (only the fields given change). A session that timed out
        or was left is gone: :class:`NotFound`, and the client joins again."""
        args: list[Any] = [self.clock.now()]
        sets = ["last_seen_at = {}"]
        if not isinstance(cursor, UnsetType):
            sets.append("cursor = {}")
            args.append(_json_or_null(cursor))
        if not isinstance(viewport, UnsetType):
            sets.append("viewport = {}")
            args.append(_json_or_null(viewport))
        if not isinstance(selection, UnsetType):
            sets.append("selection = {}")
            args.append(dump(list(selection)))
        args += [self.org_id, journey_id, session_id, user_id]
        rows = await self.db.execute(
            f"UPDATE presence_sessions SET {', '.join(sets)} WHERE organization_id = {{}} "
            f"AND journey_id = {{}} AND id = {{}} AND user_id = {{}} RETURNING {_COLUMNS}",
            *args,
        )
        if not rows:
            raise NotFound("presence session", session_id)
        return _session(rows[0])

    async def get(self, journey_id: str, session_id: str) -> PresenceSession:
        rows = await self.db.execute(
            f"SELECT {_COLUMNS} FROM presence_sessions WHERE organization_id = {{}} "
            "AND journey_id = {} AND id = {}",
            self.org_id,
            journey_id,
            session_id,
        )
        if not rows:
            raise NotFound("presence session", session_id)
        return _session(rows[0])

    async def leave(
        self, journey_id: str, session_id: str, *, user_id: str | None = None
    ) -> PresenceSession | None:
        """End a session (``user_id``: only if it is that user's); None if already gone."""
        args: list[Any] = [self.org_id, journey_id, session_id]
        sql = (
            "DELETE FROM presence_sessions WHERE organization_id = {} AND journey_id = {} "
            "AND id = {}"
        )
        if user_id is not None:
            sql += " AND user_id = {}"
            args.append(user_id)
        rows = await self.db.execute(sql + f" RETURNING {_COLUMNS}", *args)
        return _session(rows[0]) if rows else None

    async def sessions(self, journey_id: str, *, idle_after: timedelta) -> list[PresenceSession]:
        """The live sessions of a journey, oldest first."""
        rows = await self.db.execute(
            f"SELECT {_COLUMNS} FROM presence_sessions WHERE organization_id = {{}} "
            "AND journey_id = {} AND last_seen_at > {} ORDER BY joined_at, id",
            self.org_id,
            journey_id,
            self.clock.now() - idle_after,
        )
        return [_session(r) for r in rows]

    async def studio_sessions(self, *, idle_after: timedelta) -> list[PresenceSession]:
        """The live sessions of every journey of the organization, by journey, oldest
        first."""
        rows = await self.db.execute(
            f"SELECT {_COLUMNS} FROM presence_sessions WHERE organization_id = {{}} "
            "AND last_seen_at > {} ORDER BY journey_id, joined_at, id",
            self.org_id,
            self.clock.now() - idle_after,
        )
        return [_session(r) for r in rows]


def _by_id(session: PresenceSession) -> str:
    return session.id


async def sweep_presence(
    db: Database, now: datetime, *, idle_after: timedelta, limit: int = 1000
) -> list[PresenceSession]:
    """Delete up to ``limit`` sessions (of every organization) whose heartbeats stopped
    more than ``idle_after`` ago; returns them so their departure can be announced."""
    skip = " FOR UPDATE SKIP LOCKED" if db.is_postgres else ""
    rows = await db.execute(
        "DELETE FROM presence_sessions WHERE id IN (SELECT id FROM presence_sessions "
        f"WHERE last_seen_at <= {{}} ORDER BY last_seen_at LIMIT {{}}{skip}) RETURNING {_COLUMNS}",
        now - idle_after,
        limit,
    )
    return sorted(map(_session, rows), key=lambda s: (s.journey_id, s.id))
