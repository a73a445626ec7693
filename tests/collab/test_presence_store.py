"""Presence sessions in the database: colours, heartbeats, leaving and timing out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aisle.clock import TestClock
from aisle.storage.collab_presence import (
    PALETTE,
    PresenceRepository,
    pick_colour,
    sweep_presence,
)
from aisle.storage.errors import NotFound
from aisle.storage.store import Store

from .conftest import Studio

IDLE = timedelta(seconds=30)


@pytest.fixture
def presence(store: Store, studio: Studio) -> PresenceRepository:
    return PresenceRepository(studio.org.id, store.db, store.clock)


def test_pick_colour_walks_the_palette_then_generates_distinct_ones():
    used: list[str] = []
    for _ in range(40):
        used.append(pick_colour(used))
    assert used[: len(PALETTE)] == list(PALETTE)
    assert len(set(used)) == 40
    assert all(len(c) == 7 and c.startswith("#") for c in used)


async def test_users_get_distinct_colours_and_a_second_tab_shares_its_users(
    presence: PresenceRepository, studio: Studio
):
    j = studio.journey.id
    pia = await presence.join(j, user_id=studio.planner.id, display_name="Pia", idle_after=IDLE)
    phil = await presence.join(
        j, user_id=studio.photographer.id, display_name="Phil", idle_after=IDLE
    )
    pia_tab = await presence.join(j, user_id=studio.planner.id, display_name="Pia", idle_after=IDLE)
    assert pia.session.color != phil.session.color
    assert pia_tab.session.color == pia.session.color
    assert pia_tab.session.id != pia.session.id
    listed = await presence.sessions(j, idle_after=IDLE)
    assert [s.id for s in listed] == [pia.session.id, phil.session.id, pia_tab.session.id]


async def test_concurrent_joins_never_share_a_colour(store: Store, studio: Studio):
    async def join(i: int) -> str:
        repo = PresenceRepository(studio.org.id, store.db, store.clock)
        joined = await repo.join(
            studio.journey.id, user_id=f"user-{i}", display_name=f"U{i}", idle_after=IDLE
        )
        return joined.session.color

    colours = await asyncio.gather(*(join(i) for i in range(20)))
    assert len(set(colours)) == 20


async def test_heartbeat_updates_only_what_it_carries(
    presence: PresenceRepository, studio: Studio, clock: TestClock
):
    j = studio.journey.id
    joined = await presence.join(
        j,
        user_id=studio.planner.id,
        display_name="Pia",
        idle_after=IDLE,
        viewport={"x": 0, "y": 0, "zoom": 1},
    )
    clock.advance(seconds=5)
    touched = await presence.touch(
        j, joined.session.id, user_id=studio.planner.id, cursor={"x": 10.5, "y": -3}
    )
    assert touched.cursor == {"x": 10.5, "y": -3}
    assert touched.viewport == {"x": 0, "y": 0, "zoom": 1}
    assert touched.last_seen_at == clock.now()
    touched = await presence.touch(
        j, joined.session.id, user_id=studio.planner.id, cursor=None, selection=["wait", "end"]
    )
    assert touched.cursor is None
    assert touched.selection == ("wait", "end")
    # Someone else cannot drive the planner's session.
    with pytest.raises(NotFound):
        await presence.touch(j, joined.session.id, user_id=studio.photographer.id, cursor=None)


async def test_leave_and_timeouts(
    presence: PresenceRepository, studio: Studio, store: Store, clock: TestClock
):
    j = studio.journey.id
    pia = await presence.join(j, user_id=studio.planner.id, display_name="Pia", idle_after=IDLE)
    phil = await presence.join(
        j, user_id=studio.photographer.id, display_name="Phil", idle_after=IDLE
    )
    left = await presence.leave(j, pia.session.id, user_id=studio.planner.id)
    assert left is not None and left.user_id == studio.planner.id
    assert await presence.leave(j, pia.session.id) is None
    with pytest.raises(NotFound):
        await presence.touch(j, pia.session.id, user_id=studio.planner.id, cursor=None)

    clock.advance(IDLE)
    assert await presence.sessions(j, idle_after=IDLE) == []
    # A newcomer takes over the timed-out session's colour, and learns it timed out.
    vic = await presence.join(j, user_id=studio.viewer.id, display_name="Vic", idle_after=IDLE)
    assert [s.id for s in vic.timed_out] == [phil.session.id]
    assert vic.session.color == PALETTE[0]
    clock.advance(IDLE)
    swept = await sweep_presence(store.db, clock.now(), idle_after=IDLE)
    assert [s.id for s in swept] == [vic.session.id]


async def test_sessions_stay_inside_their_organization(
    presence: PresenceRepository, studio: Studio, store: Store
):
    theirs = PresenceRepository(studio.other_org.id, store.db, store.clock)
    with pytest.raises(NotFound, match="journey"):
        await theirs.join(studio.journey.id, user_id="x", display_name="X", idle_after=IDLE)
    joined = await presence.join(
        studio.journey.id, user_id=studio.planner.id, display_name="Pia", idle_after=IDLE
    )
    with pytest.raises(NotFound):
        await theirs.get(studio.journey.id, joined.session.id)
    assert await theirs.leave(studio.journey.id, joined.session.id) is None
