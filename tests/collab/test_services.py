"""Lock and presence services: what they store and what they announce on the stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from aisle.clock import TestClock
from aisle.collab import (
    CollabConfig,
    Collaboration,
    Holder,
    LiveHub,
    LockNotHeld,
    LockTarget,
    decode_event,
)
from aisle.collab.events import (
    ConflictRaised,
    FlowReplaced,
    JourneyPublished,
    LiveEvent,
    LockExpired,
    LockGranted,
    LockReleased,
    LockRenewed,
    OpsApplied,
    PresenceJoined,
    PresenceLeft,
    PresenceUpdated,
)
from aisle.collab.hub import Subscription
from aisle.storage.store import Store

from .conftest import Studio


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def hub() -> AsyncIterator[LiveHub]:
    async with LiveHub.in_process() as live:
        yield live


@pytest.fixture
def collab(store: Store, hub: LiveHub) -> Collaboration:
    return Collaboration(store.db, store.clock, hub, CollabConfig())


async def events(sub: Subscription, n: int) -> list[LiveEvent]:
    out: list[LiveEvent] = []
    async with asyncio.timeout(5):
        async for item in sub:
            assert isinstance(item, bytes)
            out.append(decode_event(item))
            if len(out) == n:
                break
    return out


def node(node_id: str) -> LockTarget:
    return LockTarget("node", node_id)


async def test_lock_changes_are_announced(
    collab: Collaboration, hub: LiveHub, studio: Studio, clock: TestClock
):
    org, j = studio.org.id, studio.journey.id
    pia = Holder(id=studio.planner.id, name="Pia Planner")
    phil = Holder(id=studio.photographer.id, name="Phil")
    async with hub.subscribe(j) as sub:
        await collab.locks.acquire(org, j, [node("wait")], mode="edit", holder=pia)
        [granted] = await events(sub, 1)
        assert isinstance(granted, LockGranted)
        assert granted.locks[0].holder_name == "Pia Planner"

        clock.advance(minutes=5)
        await collab.locks.acquire(org, j, [node("wait")], mode="edit", holder=phil)
        expired, granted = await events(sub, 2)
        assert isinstance(expired, LockExpired) and expired.locks[0].holder == pia.id
        assert isinstance(granted, LockGranted) and granted.locks[0].fencing_token == 2

        await collab.locks.acquire(org, j, [node("end")], mode="edit", holder=pia)
        await events(sub, 1)
        with pytest.raises(LockNotHeld, match="Phil"):
            await collab.locks.renew(org, j, [node("wait"), node("end")], mode="edit", holder=pia)
        [renewed] = await events(sub, 1)  # the lease still held was renewed anyway
        assert isinstance(renewed, LockRenewed) and [r.target_id for r in renewed.locks] == ["end"]

        await collab.locks.release(org, j, None, holder=pia)
        [released] = await events(sub, 1)
        assert isinstance(released, LockReleased) and released.forced_by is None

        await collab.locks.force_release(org, j, [node("wait")], actor="user:owner", reason="x")
        [forced] = await events(sub, 1)
        assert isinstance(forced, LockReleased) and forced.forced_by == "user:owner"
        # Releasing nothing announces nothing: the next message is the sweep's.
        await collab.locks.release(org, j, None, holder=pia)
        await collab.locks.acquire(org, j, [node("start")], mode="view", holder=pia)
        [viewing] = await events(sub, 1)
        assert isinstance(viewing, LockGranted) and viewing.locks[0].mode == "view"


async def test_presence_join_heartbeat_leave_are_announced(
    collab: Collaboration, hub: LiveHub, studio: Studio
):
    org, j = studio.org.id, studio.journey.id
    async with hub.subscribe(j) as sub:
        session = await collab.presence.join(org, j, user_id=studio.planner.id, display_name="Pia")
        await collab.presence.heartbeat(
            org, j, session.id, user_id=studio.planner.id, cursor={"x": 1, "y": 2}
        )
        assert await collab.presence.leave(org, j, session.id, user_id=studio.planner.id)
        assert not await collab.presence.leave(org, j, session.id, user_id=studio.planner.id)
        joined, moved, gone = await events(sub, 3)
    assert isinstance(joined, PresenceJoined) and joined.session.display_name == "Pia"
    assert isinstance(moved, PresenceUpdated) and moved.cursor == {"x": 1, "y": 2}
    assert moved.color == session.color
    assert isinstance(gone, PresenceLeft) and gone.reason == "left"


async def test_heartbeats_are_throttled_but_the_latest_always_goes_out(
    store: Store, hub: LiveHub, studio: Studio, clock: TestClock
):
    collab = Collaboration(
        store.db,
        store.clock,
        hub,
        CollabConfig(
            broadcast_interval=timedelta(seconds=60), persist_interval=timedelta(seconds=5)
        ),
    )
    monotonic = FakeMonotonic()
    collab.presence._monotonic = monotonic
    org, j, pia = studio.org.id, studio.journey.id, studio.planner.id
    session = await collab.presence.join(org, j, user_id=pia, display_name="Pia")
    async with hub.subscribe(j) as sub:
        for x in range(5):
            await collab.presence.heartbeat(org, j, session.id, user_id=pia, cursor={"x": x})
        await collab.presence.drain()
        await hub.publish(PresenceLeft(journey_id=j, at=clock.now(), session_id="end", user_id=""))
        first, latest, sentinel = await events(sub, 3)
    assert isinstance(first, PresenceUpdated) and first.cursor == {"x": 0}
    assert isinstance(latest, PresenceUpdated) and latest.cursor == {"x": 4}
    assert isinstance(sentinel, PresenceLeft) and sentinel.session_id == "end"


async def test_a_held_heartbeat_goes_out_when_its_interval_ends(
    store: Store, hub: LiveHub, studio: Studio
):
    collab = Collaboration(
        store.db, store.clock, hub, CollabConfig(broadcast_interval=timedelta(milliseconds=20))
    )
    org, j, pia = studio.org.id, studio.journey.id, studio.planner.id
    session = await collab.presence.join(org, j, user_id=pia, display_name="Pia")
    async with hub.subscribe(j) as sub:
        await collab.presence.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 1})
        await collab.presence.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 2})
        first, held = await events(sub, 2)  # the second arrives by the timer, unprompted
    assert isinstance(first, PresenceUpdated) and isinstance(held, PresenceUpdated)
    assert (first.cursor, held.cursor) == ({"x": 1}, {"x": 2})


async def test_heartbeats_reach_the_database_at_most_once_per_persist_interval(
    collab: Collaboration, studio: Studio, clock: TestClock
):
    org, j, pia = studio.org.id, studio.journey.id, studio.planner.id
    session = await collab.presence.join(org, j, user_id=pia, display_name="Pia")
    joined_at = session.last_seen_at
    clock.advance(seconds=1)
    served = await collab.presence.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 5})
    assert served.last_seen_at == clock.now() and served.cursor == {"x": 5}
    [stored] = await collab.presence.sessions(org, j)
    assert stored.last_seen_at == joined_at and stored.cursor is None  # held in memory
    # A selection change is written at once.
    await collab.presence.heartbeat(org, j, session.id, user_id=pia, selection=["wait"])
    [stored] = await collab.presence.sessions(org, j)
    assert stored.selection == ("wait",) and stored.cursor == {"x": 5}
    clock.advance(seconds=5)
    await collab.presence.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 9})
    [stored] = await collab.presence.sessions(org, j)
    assert stored.cursor == {"x": 9} and stored.last_seen_at == clock.now()
    # Another user cannot ride on the cached session.
    from aisle.storage.errors import NotFound

    with pytest.raises(NotFound):
        await collab.presence.heartbeat(
            org, j, session.id, user_id=studio.photographer.id, cursor=None
        )


async def test_sweep_expires_leases_and_silent_sessions_with_announcements(
    collab: Collaboration, hub: LiveHub, studio: Studio, clock: TestClock
):
    org, j = studio.org.id, studio.journey.id
    pia = Holder(id=studio.planner.id, name="Pia")
    session = await collab.presence.join(org, j, user_id=pia.id, display_name="Pia")
    await collab.locks.acquire(org, j, [node("wait"), node("end")], mode="edit", holder=pia)
    clock.advance(minutes=5)
    async with hub.subscribe(j) as sub:
        report = await collab.sweep()
        expired, gone = await events(sub, 2)
    assert (report.locks_expired, report.sessions_timed_out) == (2, 1)
    assert isinstance(expired, LockExpired) and len(expired.locks) == 2
    assert isinstance(gone, PresenceLeft) and gone.reason == "timeout"
    assert gone.session_id == session.id
    assert (await collab.sweep()).locks_expired == 0


async def test_flow_log_entries_become_stream_messages(
    collab: Collaboration, hub: LiveHub, studio: Studio
):
    j = studio.journey.id
    entries = [
        {
            "op_id": "a",
            "revision": 4,
            "status": "applied",
            "kind": "move_node",
            "op": {"op": "move_node", "id": "a", "node_id": "wait"},
            "changes": [{"kind": "nodes", "id": "wait", "prop": ["position"]}],
            "actor": "user:1",
        },
        {
            "op_id": "b",
            "revision": 4,
            "status": "rejected",
            "kind": "update_node",
            "op": {"op": "update_node", "id": "b", "node_id": "end"},
            "conflict_ids": ["c1"],
            "actor": "user:1",
        },
        {"op_id": "put:1", "revision": 5, "status": "applied", "kind": "replace_flow", "op": {}},
    ]
    async with hub.subscribe(j) as sub:
        await collab.announce_flow_log(j, entries)
        await collab.announce_published(j, 3, actor="user:1")
        replaced, applied, conflict, published = await events(sub, 4)
    assert isinstance(replaced, FlowReplaced) and replaced.revision == 5
    assert isinstance(applied, OpsApplied) and applied.revision == 4
    assert [op["id"] for op in applied.ops] == ["a"]
    assert applied.changes[0]["id"] == "wait"
    assert isinstance(conflict, ConflictRaised) and conflict.conflicts[0]["conflict_ids"] == ["c1"]
    assert isinstance(published, JourneyPublished) and published.version == 3
