"""Lock and presence services: who may act, what they store and what they announce."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from aisle.api.context import Caller
from aisle.canvas.graph_paths import Change
from aisle.clock import TestClock
from aisle.collab import (
    CanvasLink,
    CollabConfig,
    Collaboration,
    LiveHub,
    LockService,
    LockTarget,
    PresenceService,
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
from aisle.domain.user import User
from aisle.services.errors import Refused
from aisle.storage.errors import NotFound
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
    return Collaboration(store, hub, CollabConfig())


def caller(user: User) -> Caller:
    return Caller(
        organization_id=user.organization_id,
        role=user.role,
        token_id=f"t-{user.id}",
        user_id=user.id,
    )


def locks_of(collab: Collaboration, user: User) -> LockService:
    return LockService(collab, collab.store.for_org(user.organization_id), caller(user))


def presence_of(collab: Collaboration, user: User) -> PresenceService:
    return PresenceService(collab, collab.store.for_org(user.organization_id), caller(user))


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
    j = studio.journey.id
    pia, phil = locks_of(collab, studio.planner), locks_of(collab, studio.photographer)
    async with hub.subscribe(j) as sub:
        await pia.acquire(j, [node("wait")], mode="edit")
        [granted] = await events(sub, 1)
        assert isinstance(granted, LockGranted)
        assert granted.locks[0].holder_name == "Pia Planner"

        clock.advance(minutes=5)
        await phil.acquire(j, [node("wait")], mode="edit")
        expired, granted = await events(sub, 2)
        assert isinstance(expired, LockExpired) and expired.locks[0].holder == studio.planner.id
        assert isinstance(granted, LockGranted) and granted.locks[0].fencing_token == 2

        await pia.acquire(j, [node("end")], mode="edit")
        await events(sub, 1)
        with pytest.raises(Refused, match="Phil") as lost:
            await pia.renew(j, [node("wait"), node("end")], mode="edit")
        assert (lost.value.status, lost.value.slug) == (409, "lock-lost")
        assert lost.value.extra["lost"] == ["node:wait"]
        [renewed] = await events(sub, 1)  # the lease still held was renewed anyway
        assert isinstance(renewed, LockRenewed) and [r.target_id for r in renewed.locks] == ["end"]

        await pia.release(j, None)
        [released] = await events(sub, 1)
        assert isinstance(released, LockReleased) and released.forced_by is None

        owner = locks_of(collab, studio.owner)
        await owner.force_release(j, [node("wait")], reason="x")
        [forced] = await events(sub, 1)
        assert isinstance(forced, LockReleased)
        assert forced.forced_by == f"user:{studio.owner.id}"
        # Releasing nothing announces nothing: the next message is the sweep's.
        await pia.release(j, None)
        await pia.acquire(j, [node("start")], mode="view")
        [viewing] = await events(sub, 1)
        assert isinstance(viewing, LockGranted) and viewing.locks[0].mode == "view"


async def test_lock_conflicts_name_each_holder_on_its_node(collab: Collaboration, studio: Studio):
    j = studio.journey.id
    await locks_of(collab, studio.planner).acquire(j, [node("wait")], mode="edit")
    with pytest.raises(Refused) as refused:
        await locks_of(collab, studio.photographer).acquire(
            j, [node("wait"), node("end")], mode="edit"
        )
    exc = refused.value
    assert (exc.status, exc.slug, exc.title) == (409, "lock-conflict", "Locked by someone else")
    [error] = exc.errors
    assert (error.node_id, error.code) == ("wait", "locked")
    assert error.message.startswith("locked by Pia Planner until ")
    assert [h["holder"] for h in exc.extra["holders"]] == [studio.planner.id]
    assert await locks_of(collab, studio.photographer).leases(j) == [
        lock
        for lock in await locks_of(collab, studio.viewer).leases(j)
        if lock.holder == studio.planner.id
    ]


async def test_lock_services_check_the_role_and_the_organization(
    collab: Collaboration, studio: Studio
):
    j = studio.journey.id
    viewer = locks_of(collab, studio.viewer)
    assert await viewer.leases(j) == []
    with pytest.raises(Refused, match="locking elements needs the 'editor' role") as refused:
        await viewer.acquire(j, [node("wait")], mode="edit")
    assert refused.value.status == 403
    with pytest.raises(Refused, match="force-releasing locks needs the 'admin' role"):
        await locks_of(collab, studio.planner).force_release(j, None)
    with pytest.raises(NotFound):
        await locks_of(collab, studio.owner).leases(studio.other_journey.id)
    with pytest.raises(Refused, match="joining the canvas needs the 'editor' role"):
        await presence_of(collab, studio.viewer).join(j)
    with pytest.raises(NotFound):
        await presence_of(collab, studio.owner).sessions(studio.other_journey.id)


async def test_a_token_without_a_user_holds_locks_in_its_name(
    collab: Collaboration, store: Store, studio: Studio
):
    scope = store.for_org(studio.org)
    token, _ = await scope.tokens.create(name="Zapier", role="editor")
    robot = Caller(organization_id=studio.org.id, role="editor", token_id=token.id)
    got = await LockService(collab, scope, robot).acquire(
        studio.journey.id, [node("wait")], mode="edit", session_id="s1"
    )
    [lock] = got.granted
    assert (lock.holder, lock.holder_name) == (f"token:{token.id}", "API token Zapier")
    session = await PresenceService(collab, scope, robot).join(studio.journey.id)
    assert (session.user_id, session.display_name) == (f"token:{token.id}", "API token Zapier")


async def test_canvas_link_fences_writes_and_annotates_nodes(
    collab: Collaboration, hub: LiveHub, store: Store, studio: Studio
):
    j = studio.journey.id
    got = await locks_of(collab, studio.planner).acquire(j, [node("wait")], mode="edit")
    token = got.granted[0].fencing_token
    scope = store.for_org(studio.org)
    pia = CanvasLink(store, scope, caller(studio.planner), collab)
    phil = CanvasLink(store, scope, caller(studio.photographer), None)
    changed = [Change(kind="nodes", id="wait", prop=("data",))]
    await pia.enforce_fences(j, changed, {"node:wait": token})
    with pytest.raises(Refused) as stale:
        await pia.enforce_fences(j, changed, {"wait": token - 1})
    assert (stale.value.status, stale.value.slug) == (423, "locked")
    with pytest.raises(Refused) as theirs:
        await phil.enforce_fences(j, changed, {})
    [refusal] = theirs.value.extra["refusals"]
    assert (refusal["target"], refusal["holder"]) == ("node:wait", studio.planner.id)
    await phil.enforce_fences(j, [], {})  # nothing changed, nothing to fence
    locks = await phil.node_locks(j)
    assert locks["wait"]["edit"]["fencing_token"] == token
    assert locks["wait"]["viewers"] == []
    entry = {"op_id": "a", "revision": 2, "status": "applied", "kind": "x", "op": {}}
    await phil.announce_flow_log(j, [entry])  # no live stream: nothing to announce on
    async with hub.subscribe(j) as sub:
        await pia.announce_flow_log(j, [entry])
        [applied] = await events(sub, 1)
    assert isinstance(applied, OpsApplied) and applied.revision == 2


async def test_presence_join_heartbeat_leave_are_announced(
    collab: Collaboration, hub: LiveHub, studio: Studio
):
    org, j = studio.org.id, studio.journey.id
    async with hub.subscribe(j) as sub:
        session = await collab.board.join(org, j, user_id=studio.planner.id, display_name="Pia")
        await collab.board.heartbeat(
            org, j, session.id, user_id=studio.planner.id, cursor={"x": 1, "y": 2}
        )
        assert await collab.board.leave(org, j, session.id, user_id=studio.planner.id)
        assert not await collab.board.leave(org, j, session.id, user_id=studio.planner.id)
        joined, moved, gone = await events(sub, 3)
    assert isinstance(joined, PresenceJoined) and joined.session.display_name == "Pia"
    assert isinstance(moved, PresenceUpdated) and moved.cursor == {"x": 1, "y": 2}
    assert moved.color == session.color
    assert isinstance(gone, PresenceLeft) and gone.reason == "left"


async def test_heartbeats_are_throttled_but_the_latest_always_goes_out(
    store: Store, hub: LiveHub, studio: Studio, clock: TestClock
):
    collab = Collaboration(
        store,
        hub,
        CollabConfig(
            broadcast_interval=timedelta(seconds=60), persist_interval=timedelta(seconds=5)
        ),
    )
    monotonic = FakeMonotonic()
    collab.board._monotonic = monotonic
    org, j, pia = studio.org.id, studio.journey.id, studio.planner.id
    session = await collab.board.join(org, j, user_id=pia, display_name="Pia")
    async with hub.subscribe(j) as sub:
        for x in range(5):
            await collab.board.heartbeat(org, j, session.id, user_id=pia, cursor={"x": x})
        await collab.board.drain()
        await hub.publish(PresenceLeft(journey_id=j, at=clock.now(), session_id="end", user_id=""))
        first, latest, sentinel = await events(sub, 3)
    assert isinstance(first, PresenceUpdated) and first.cursor == {"x": 0}
    assert isinstance(latest, PresenceUpdated) and latest.cursor == {"x": 4}
    assert isinstance(sentinel, PresenceLeft) and sentinel.session_id == "end"


async def test_a_held_heartbeat_goes_out_when_its_interval_ends(
    store: Store, hub: LiveHub, studio: Studio
):
    collab = Collaboration(store, hub, CollabConfig(broadcast_interval=timedelta(milliseconds=20)))
    org, j, pia = studio.org.id, studio.journey.id, studio.planner.id
    session = await collab.board.join(org, j, user_id=pia, display_name="Pia")
    async with hub.subscribe(j) as sub:
        await collab.board.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 1})
        await collab.board.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 2})
        first, held = await events(sub, 2)  # the second arrives by the timer, unprompted
    assert isinstance(first, PresenceUpdated) and isinstance(held, PresenceUpdated)
    assert (first.cursor, held.cursor) == ({"x": 1}, {"x": 2})


async def test_heartbeats_reach_the_database_at_most_once_per_persist_interval(
    collab: Collaboration, studio: Studio, clock: TestClock
):
    org, j, pia = studio.org.id, studio.journey.id, studio.planner.id
    session = await collab.board.join(org, j, user_id=pia, display_name="Pia")
    joined_at = session.last_seen_at
    clock.advance(seconds=1)
    served = await collab.board.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 5})
    assert served.last_seen_at == clock.now() and served.cursor == {"x": 5}
    [stored] = await collab.board.sessions(org, j)
    assert stored.last_seen_at == joined_at and stored.cursor is None  # held in memory
    # A selection change is written at once.
    await collab.board.heartbeat(org, j, session.id, user_id=pia, selection=["wait"])
    [stored] = await collab.board.sessions(org, j)
    assert stored.selection == ("wait",) and stored.cursor == {"x": 5}
    clock.advance(seconds=5)
    await collab.board.heartbeat(org, j, session.id, user_id=pia, cursor={"x": 9})
    [stored] = await collab.board.sessions(org, j)
    assert stored.cursor == {"x": 9} and stored.last_seen_at == clock.now()
    # Another user cannot ride on the cached session.
    from aisle.storage.errors import NotFound

    with pytest.raises(NotFound):
        await collab.board.heartbeat(
            org, j, session.id, user_id=studio.photographer.id, cursor=None
        )


async def test_sweep_expires_leases_and_silent_sessions_with_announcements(
    collab: Collaboration, hub: LiveHub, studio: Studio, clock: TestClock
):
    j = studio.journey.id
    session = await presence_of(collab, studio.planner).join(j)
    await locks_of(collab, studio.planner).acquire(j, [node("wait"), node("end")], mode="edit")
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
