"""The live stream of one journey for one client: ``hello``, the ops it missed, then
every message as it is published (the API sends it over a WebSocket or as SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import msgspec

from aisle.collab.events import Hello, LiveEvent, OpsApplied, Refetch, encode_event
from aisle.collab.holders import Participant
from aisle.collab.hub import MISSED
from aisle.collab.service import Collaboration, flow_log_events
from aisle.domain.journey_record import Journey
from aisle.services.roles import ensure_journey_role
from aisle.storage.collab_locks import LockRepository
from aisle.storage.flow_log import CollaboratorRepository, FlowLogRepository
from aisle.storage.store import OrgScope

__all__ = ["REPLAY_LIMIT", "JourneyStream"]

REPLAY_LIMIT = 1000
"""The most op-log entries replayed to a reconnecting client; beyond, ``refetch``."""

_REVISIONED = (b'{"type":"ops.applied"', b'{"type":"flow.replaced"')


class _Revisioned(msgspec.Struct):
    revision: int


_revision_of = msgspec.json.Decoder(_Revisioned)


class JourneyStream:
    """What ``actor`` of ``scope`` sees of a journey's live stream."""

    def __init__(self, collab: Collaboration, scope: OrgScope, actor: Participant) -> None:
        self.collab = collab
        self.scope = scope
        self.actor = actor
        store = collab.store
        self.flow_log = FlowLogRepository(scope.org_id, store.db, store.clock)
        self.locks = LockRepository(scope.org_id, store.db, store.clock)
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)

    async def open(self, journey_id: str) -> Journey:
        """The journey to watch (``NotFound`` outside the organization), if the actor is
        at least a ``viewer`` of it (403 otherwise)."""
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(
            self.actor, self.collaborators, journey.id, "viewer", "watching the journey"
        )
        return journey

    async def messages(
        self, journey_id: str, since: int | None
    ) -> AsyncIterator[tuple[bytes, int | None]]:
        """The journey's stream: ``hello``, the ops missed since ``since`` (or
        ``refetch``), then every message as it is published.

        Yields each message with the draft revision it brings the client to (``None`` for
        messages that do not change the draft). Subscribes before reading the database,
        so nothing committed in between is lost; replayed ops are not sent twice.
        """
        collab = self.collab
        async with collab.hub.subscribe(journey_id) as subscription:
            journey = await self.scope.journeys.get(journey_id)
            now = collab.clock.now()
            sessions = await collab.board.sessions(self.scope.org_id, journey.id)
            locks = await self.locks.leases(journey.id)
            last = journey.revision
            hello = Hello(
                journey_id=journey.id,
                at=now,
                revision=journey.revision,
                sessions=sessions,
                locks=locks,
                since=since,
            )
            yield encode_event(hello), journey.revision
            if since is not None and since != journey.revision:
                for event in await self._replay(journey.id, since, journey.revision, now):
                    revision = getattr(event, "revision", None)
                    if isinstance(revision, int):
                        last = max(last, revision)
                    yield encode_event(event), revision
            async for item in subscription:
                if item is MISSED:
                    current = await self.scope.journeys.get(journey.id)
                    last = current.revision
                    refetch = Refetch(
                        journey_id=journey.id,
                        at=collab.clock.now(),
                        revision=current.revision,
                        reason="messages may have been missed (backlog overflow or a reconnection)",
                    )
                    yield encode_event(refetch), current.revision
                    continue
                assert isinstance(item, bytes)
                revision = None
                if item.startswith(_REVISIONED):
                    revision = _revision_of.decode(item).revision
                    if revision <= last:
                        continue  # already replayed from the op log
                    last = revision
                yield item, revision

    async def _replay(
        self, journey_id: str, since: int, current: int, now: datetime
    ) -> list[LiveEvent]:
        if since > current:
            return [
                Refetch(
                    journey_id=journey_id,
                    at=now,
                    revision=current,
                    reason=f"revision {since} is ahead of the draft (at {current})",
                )
            ]
        entries = await self.flow_log.since(journey_id, since, limit=REPLAY_LIMIT)
        if len(entries) >= REPLAY_LIMIT or any(e.kind == "replace_flow" for e in entries):
            return [
                Refetch(
                    journey_id=journey_id,
                    at=now,
                    revision=current,
                    reason=f"too much changed since revision {since} to replay",
                )
            ]
        events = flow_log_events(journey_id, [msgspec.structs.asdict(e) for e in entries], now)
        return [
            msgspec.structs.replace(e, replayed=True) if isinstance(e, OpsApplied) else e
            for e in events
        ]
