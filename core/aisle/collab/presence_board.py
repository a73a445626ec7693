"""The presence board of one process: sessions joined and left, heartbeats throttled
and announced, for every organization (:class:`~aisle.collab.presence.PresenceService`
checks who may do what, then calls it).

A canvas sends heartbeats as the cursor moves (tens per second). Two throttles keep
that cheap without losing the final position:

- the stream gets at most one ``presence.updated`` per session per broadcast interval;
  a heartbeat inside the interval is held and the latest one is sent when it ends;
- the database sees a heartbeat at most once per persist interval per session (a
  selection change is written at once), which is plenty for a 30 s timeout.

The throttle state is per process and bounded; a session that heartbeats through
several processes is throttled by each one separately.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from aisle.clock import Clock
from aisle.collab.config import CollabConfig
from aisle.collab.events import PresenceJoined, PresenceLeft, PresenceUpdated
from aisle.collab.hub import LiveHub
from aisle.domain.presence import PresenceSession
from aisle.storage.collab_presence import PresenceRepository
from aisle.storage.database import Database

__all__ = ["PresenceBoard"]

_MAX_TRACKED = 10_000


@dataclass
class _Tracked:
    org_id: str
    session: PresenceSession
    persisted_at: datetime
    last_sent: float = float("-inf")
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class PresenceBoard:
    """Presence sessions of every organization, for one process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        hub: LiveHub,
        config: CollabConfig,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.clock = clock
        self.hub = hub
        self.config = config
        self._monotonic = monotonic
        self._tracked: OrderedDict[str, _Tracked] = OrderedDict()
        self._tasks: set[asyncio.Task[bool]] = set()

    def repository(self, org_id: str) -> PresenceRepository:
        return PresenceRepository(org_id, self.db, self.clock)

    async def join(
        self,
        org_id: str,
        journey_id: str,
        *,
        user_id: str,
        display_name: str,
        cursor: dict[str, Any] | None = None,
        viewport: dict[str, Any] | None = None,
        selection: Sequence[str] = (),
    ) -> PresenceSession:
        """Open a session; announces it (and any sessions found timed out)."""
        joined = await self.repository(org_id).join(
            journey_id,
            user_id=user_id,
            display_name=display_name,
            idle_after=self.config.presence_timeout,
            cursor=cursor,
            viewport=viewport,
            selection=selection,
        )
        now = self.clock.now()
        for gone in joined.timed_out:
            self._forget(gone.id)
            await self.hub.publish(
                PresenceLeft(
                    journey_id=journey_id,
                    at=now,
                    session_id=gone.id,
                    user_id=gone.user_id,
                    reason="timeout",
                )
            )
        session = joined.session
        self._track(_Tracked(org_id=org_id, session=session, persisted_at=now))
        await self.hub.publish(PresenceJoined(journey_id=journey_id, at=now, session=session))
        return session

    async def heartbeat(
        self,
        org_id: str,
        journey_id: str,
        session_id: str,
        *,
        user_id: str,
        cursor: dict[str, Any] | UnsetType | None = UNSET,
        viewport: dict[str, Any] | UnsetType | None = UNSET,
        selection: Sequence[str] | UnsetType = UNSET,
    ) -> PresenceSession:
        """Record where the user is; raises ``NotFound`` when the session has ended."""
        now = self.clock.now()
        tracked = self._tracked.get(session_id)
        if tracked is not None and (
            tracked.org_id != org_id
            or tracked.session.journey_id != journey_id
            or tracked.session.user_id != user_id
        ):
            tracked = None  # not this caller's session as far as this process knows
        if tracked is None:
            session = await self.repository(org_id).touch(
                journey_id,
                session_id,
                user_id=user_id,
                cursor=cursor,
                viewport=viewport,
                selection=selection,
            )
            tracked = _Tracked(org_id=org_id, session=session, persisted_at=now)
            self._track(tracked)
        else:
            changes: dict[str, Any] = {"last_seen_at": now}
            if not isinstance(cursor, UnsetType):
                changes["cursor"] = cursor
            if not isinstance(viewport, UnsetType):
                changes["viewport"] = viewport
            if not isinstance(selection, UnsetType):
                changes["selection"] = tuple(selection)
            current = msgspec.structs.replace(tracked.session, **changes)
            if (
                current.selection != tracked.session.selection
                or now - tracked.persisted_at >= self.config.persist_interval
            ):
                # Write what this process holds, including positions it did not write.
                current = await self.repository(org_id).touch(
                    journey_id,
                    session_id,
                    user_id=user_id,
                    cursor=current.cursor,
                    viewport=current.viewport,
                    selection=current.selection,
                )
                tracked.persisted_at = now
            tracked.session = current
            self._tracked.move_to_end(session_id)
        await self._announce(tracked)
        return tracked.session

    async def leave(self, org_id: str, journey_id: str, session_id: str, *, user_id: str) -> bool:
        """End the user's session; False when it had already ended."""
        self._forget(session_id)
        gone = await self.repository(org_id).leave(journey_id, session_id, user_id=user_id)
        if gone is None:
            return False
        await self.hub.publish(
            PresenceLeft(
                journey_id=journey_id,
                at=self.clock.now(),
                session_id=gone.id,
                user_id=gone.user_id,
                reason="left",
            )
        )
        return True

    async def sessions(self, org_id: str, journey_id: str) -> list[PresenceSession]:
        """The journey's live sessions (cursor positions as last persisted)."""
        return await self.repository(org_id).sessions(
            journey_id, idle_after=self.config.presence_timeout
        )

    def forget(self, session_ids: Sequence[str]) -> None:
        """Drop throttle state of sessions that ended elsewhere (the sweep)."""
        for session_id in session_ids:
            self._forget(session_id)

    async def drain(self) -> None:
        """Send every held heartbeat now (shutdown, tests)."""
        for tracked in list(self._tracked.values()):
            if tracked.timer is not None:
                tracked.timer.cancel()
                tracked.timer = None
                await self._send(tracked)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- throttling ------------------------------------------------------------------

    def _track(self, tracked: _Tracked) -> None:
        self._tracked[tracked.session.id] = tracked
        self._tracked.move_to_end(tracked.session.id)
        while len(self._tracked) > _MAX_TRACKED:
            _, evicted = self._tracked.popitem(last=False)
            if evicted.timer is not None:
                evicted.timer.cancel()

    def _forget(self, session_id: str) -> None:
        tracked = self._tracked.pop(session_id, None)
        if tracked is not None and tracked.timer is not None:
            tracked.timer.cancel()

    async def _announce(self, tracked: _Tracked) -> None:
        if tracked.timer is not None:
            return  # a held update goes out when the interval ends, with this state
        interval = self.config.broadcast_interval.total_seconds()
        wait = tracked.last_sent + interval - self._monotonic()
        if wait <= 0:
            await self._send(tracked)
            return
        loop = asyncio.get_running_loop()
        tracked.timer = loop.call_later(wait, self._flush, tracked.session.id)

    def _flush(self, session_id: str) -> None:
        tracked = self._tracked.get(session_id)
        if tracked is None:
            return
        tracked.timer = None
        task = asyncio.get_running_loop().create_task(self._send(tracked))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, tracked: _Tracked) -> bool:
        tracked.last_sent = self._monotonic()
        session = tracked.session
        return await self.hub.publish(
            PresenceUpdated(
                journey_id=session.journey_id,
                at=self.clock.now(),
                session_id=session.id,
                user_id=session.user_id,
                color=session.color,
                cursor=session.cursor,
                viewport=session.viewport,
                selection=list(session.selection),
            )
        )
