"""What one process holds for collaboration: the store, the hub, the presence board.

The API builds one :class:`Collaboration` at start-up; the per-call services
(:class:`~aisle.collab.locks.LockService`, :class:`~aisle.collab.presence.PresenceService`,
:class:`~aisle.collab.stream.JourneyStream`, :class:`~aisle.collab.canvas_link.CanvasLink`)
act through it for one organization and one actor. Publishing announces through it
(:meth:`Collaboration.announce_published`); the scheduler calls :func:`sweep` (or
:meth:`Collaboration.sweep`) to expire leases and end silent sessions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from aisle.clock import Clock
from aisle.collab.config import CollabConfig
from aisle.collab.events import (
    ConflictRaised,
    FlowReplaced,
    JourneyPublished,
    LiveEvent,
    LockExpired,
    OpsApplied,
    PresenceLeft,
)
from aisle.collab.hub import LiveHub
from aisle.collab.presence_board import PresenceBoard
from aisle.storage.collab_locks import sweep_expired_locks
from aisle.storage.collab_presence import sweep_presence
from aisle.storage.database import Database
from aisle.storage.store import Store

__all__ = ["Collaboration", "SweepReport", "flow_log_events", "sweep"]


class SweepReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one sweep removed."""

    locks_expired: int = 0
    sessions_timed_out: int = 0


async def sweep(
    db: Database,
    clock: Clock,
    hub: LiveHub,
    config: CollabConfig | None = None,
    *,
    batch: int = 1000,
) -> SweepReport:
    """Delete lapsed leases and silent presence sessions of every organization, and
    announce each on its journey's stream. Safe to run in several schedulers at once
    (each row is removed, and announced, by one of them)."""
    config = config or CollabConfig()
    now = clock.now()
    locks = await sweep_expired_locks(db, now, limit=batch)
    sessions = await sweep_presence(db, now, idle_after=config.presence_timeout, limit=batch)
    events: list[LiveEvent] = []
    for journey_id, group in itertools.groupby(locks, key=lambda lock: lock.journey_id):
        events.append(LockExpired(journey_id=journey_id, at=now, locks=list(group)))
    for session in sessions:
        events.append(
            PresenceLeft(
                journey_id=session.journey_id,
                at=now,
                session_id=session.id,
                user_id=session.user_id,
                reason="timeout",
            )
        )
    await hub.publish_all(events)
    return SweepReport(locks_expired=len(locks), sessions_timed_out=len(sessions))


def flow_log_events(
    journey_id: str, entries: Iterable[Mapping[str, Any]], at: datetime
) -> list[LiveEvent]:
    """Stream messages for op-log entries (the dicts the canvas code appends to
    ``flow_ops``): applied ops per revision, refused ops as conflicts, whole-flow
    replacements as ``flow.replaced``."""
    events: list[LiveEvent] = []
    applied: dict[tuple[int, str], list[Mapping[str, Any]]] = {}
    rejected: dict[tuple[int, str], list[Mapping[str, Any]]] = {}
    for entry in entries:
        key = (int(entry["revision"]), str(entry.get("actor", "")))
        if entry.get("kind") == "replace_flow":
            events.append(FlowReplaced(journey_id=journey_id, at=at, revision=key[0], actor=key[1]))
        elif entry.get("status") == "rejected":
            rejected.setdefault(key, []).append(entry)
        else:
            applied.setdefault(key, []).append(entry)
    for (revision, actor), group in sorted(applied.items()):
        events.append(
            OpsApplied(
                journey_id=journey_id,
                at=at,
                revision=revision,
                ops=[dict(e["op"]) for e in group],
                changes=[dict(c) for e in group for c in e.get("changes", [])],
                actor=actor,
            )
        )
    for (revision, actor), group in sorted(rejected.items()):
        events.append(
            ConflictRaised(
                journey_id=journey_id,
                at=at,
                revision=revision,
                conflicts=[
                    {
                        "op_id": e["op_id"],
                        "op": e["op"],
                        "conflict_ids": list(e.get("conflict_ids", [])),
                    }
                    for e in group
                ],
                actor=actor,
            )
        )
    return events


class Collaboration:
    """The store, the live stream and the presence board of one process."""

    def __init__(self, store: Store, hub: LiveHub, config: CollabConfig | None = None) -> None:
        self.store = store
        self.clock = store.clock
        self.hub = hub
        self.config = config or CollabConfig()
        self.board = PresenceBoard(store.db, store.clock, hub, self.config)

    async def sweep(self, *, batch: int = 1000) -> SweepReport:
        """Expire leases and sessions now (the scheduler's periodic call)."""
        return await sweep(self.store.db, self.clock, self.hub, self.config, batch=batch)

    async def announce_flow_log(
        self, journey_id: str, entries: Iterable[Mapping[str, Any]]
    ) -> None:
        """Announce committed op-log entries on the journey's stream."""
        await self.hub.publish_all(flow_log_events(journey_id, entries, self.clock.now()))

    async def announce_published(
        self, journey_id: str, version: int, *, actor: str, source_version: int | None = None
    ) -> None:
        """Announce that ``version`` of the journey went live (publish or rollback)."""
        await self.hub.publish(
            JourneyPublished(
                journey_id=journey_id,
                at=self.clock.now(),
                version=version,
                actor=actor,
                source_version=source_version,
            )
        )
