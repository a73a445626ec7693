"""Lock leases in the database: atomic grants, fencing tokens, renewals and sweeps.

Every test runs on SQLite and on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from aisle.clock import TestClock
from aisle.storage.collab_locks import (
    FenceRefused,
    LockConflict,
    LockRepository,
    LockTarget,
    sweep_expired_locks,
)
from aisle.storage.errors import NotFound
from aisle.storage.store import Store

from .conftest import NODE_IDS, Studio

EDIT = timedelta(minutes=5)
VIEW = timedelta(seconds=30)


def node(node_id: str) -> LockTarget:
    return LockTarget("node", node_id)


def edge(edge_id: str) -> LockTarget:
    return LockTarget("edge", edge_id)


@pytest.fixture
def locks(store: Store, studio: Studio) -> LockRepository:
    return LockRepository(studio.org.id, store.db, store.clock)


async def test_edit_grant_then_conflict_names_the_holder(locks: LockRepository, studio: Studio):
    granted = await locks.acquire(
        studio.journey.id,
        [node("brochure")],
        mode="edit",
        holder=studio.planner.id,
        holder_name="Pia Planner",
        lease=EDIT,
    )
    [lock] = granted.granted
    assert lock.fencing_token == 1
    assert lock.expires_at - lock.acquired_at == EDIT

    with pytest.raises(LockConflict) as refused:
        await locks.acquire(
            studio.journey.id,
            [node("brochure")],
            mode="edit",
            holder=studio.photographer.id,
            lease=EDIT,
        )
    assert "Pia Planner" in str(refused.value)
    assert "node 'brochure'" in str(refused.value)
    assert refused.value.conflicts[0].holder == studio.planner.id


async def test_lapsed_lease_is_reclaimable_at_once_with_the_next_token(
    locks: LockRepository, studio: Studio, clock: TestClock
):
    first = await locks.acquire(
        studio.journey.id, [node("wait")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    clock.advance(EDIT)  # expires_at is exclusive: at exactly the expiry it has lapsed
    second = await locks.acquire(
        studio.journey.id, [node("wait")], mode="edit", holder=studio.photographer.id, lease=EDIT
    )
    assert second.granted[0].fencing_token == first.granted[0].fencing_token + 1
    assert [r.holder for r in second.replaced] == [studio.planner.id]

    # The planner's late write with the old token is refused, naming the new holder.
    with pytest.raises(FenceRefused) as refused:
        await locks.check_fences(
            studio.journey.id,
            [node("wait")],
            holder=studio.planner.id,
            tokens={node("wait"): first.granted[0].fencing_token},
        )
    [refusal] = refused.value.refusals
    assert refusal.reason == "stale_token"
    assert refusal.holder is not None and refusal.holder.holder == studio.photographer.id
    assert "stale" in refusal.message


async def test_holder_reacquiring_extends_and_keeps_its_token(
    locks: LockRepository, studio: Studio, clock: TestClock
):
    first = await locks.acquire(
        studio.journey.id, [node("decide")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    clock.advance(minutes=2)
    again = await locks.acquire(
        studio.journey.id, [node("decide")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    assert again.granted[0].fencing_token == first.granted[0].fencing_token
    assert again.granted[0].expires_at == clock.now() + EDIT
    assert again.granted[0].acquired_at == first.granted[0].acquired_at


async def test_fencing_tokens_never_repeat_after_release_or_sweep(
    locks: LockRepository, studio: Studio, store: Store, clock: TestClock
):
    tokens = []
    for _ in range(2):
        got = await locks.acquire(
            studio.journey.id, [node("end")], mode="edit", holder=studio.planner.id, lease=EDIT
        )
        tokens.append(got.granted[0].fencing_token)
        released = await locks.release(studio.journey.id, [node("end")], holder=studio.planner.id)
        assert [r.fencing_token for r in released] == [tokens[-1]]
    got = await locks.acquire(
        studio.journey.id, [node("end")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    tokens.append(got.granted[0].fencing_token)
    clock.advance(EDIT)
    swept = await sweep_expired_locks(store.db, clock.now())
    assert [s.target for s in swept] == [node("end")]
    got = await locks.acquire(
        studio.journey.id, [node("end")], mode="edit", holder=studio.photographer.id, lease=EDIT
    )
    tokens.append(got.granted[0].fencing_token)
    assert tokens == [1, 2, 3, 4]


async def test_batch_acquire_is_all_or_nothing(locks: LockRepository, studio: Studio):
    await locks.acquire(
        studio.journey.id, [node("deposit")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    with pytest.raises(LockConflict) as refused:
        await locks.acquire(
            studio.journey.id,
            [node("decide"), node("deposit"), edge("e-decide-deposit")],
            mode="edit",
            holder=studio.photographer.id,
            lease=EDIT,
        )
    assert [c.target for c in refused.value.conflicts] == [node("deposit")]
    leases = await locks.leases(studio.journey.id)
    assert [(lock.target, lock.holder) for lock in leases] == [(node("deposit"), studio.planner.id)]
    # Nothing was left behind: the photographer can lock the free ones at once, and the
    # counters of the refused batch were rolled back with it.
    got = await locks.acquire(
        studio.journey.id,
        [node("decide"), edge("e-decide-deposit")],
        mode="edit",
        holder=studio.photographer.id,
        lease=EDIT,
    )
    assert [g.fencing_token for g in got.granted] == [1, 1]


async def test_nodes_and_edges_with_the_same_id_are_distinct_targets(store: Store, studio: Studio):
    from aisle.domain.journey import Edge, Graph, Step

    scope = store.for_org(studio.org)
    journey = await scope.journeys.create(
        name="Same ids",
        draft=Graph(
            steps=(Step(id="x", type="wait"), Step(id="y", type="end")),
            edges=(Edge(id="x", source="x", target="y"),),
        ),
    )
    locks = LockRepository(studio.org.id, store.db, store.clock)
    await locks.acquire(journey.id, [node("x")], mode="edit", holder=studio.planner.id, lease=EDIT)
    got = await locks.acquire(
        journey.id, [edge("x")], mode="edit", holder=studio.photographer.id, lease=EDIT
    )
    assert got.granted[0].target == edge("x")


async def test_fifty_concurrent_grants_on_one_node_yield_exactly_one(store: Store, studio: Studio):
    holders = [f"user-{i}" for i in range(50)]

    async def attempt(holder: str) -> str | None:
        repo = LockRepository(studio.org.id, store.db, store.clock)
        try:
            got = await repo.acquire(
                studio.journey.id, [node("brochure")], mode="edit", holder=holder, lease=EDIT
            )
        except LockConflict as conflict:
            assert len(conflict.conflicts) == 1
            return None
        return got.granted[0].holder

    results = await asyncio.gather(*(attempt(h) for h in holders))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    leases = await LockRepository(studio.org.id, store.db, store.clock).leases(studio.journey.id)
    assert [(lock.holder, lock.fencing_token) for lock in leases] == [(winners[0], 1)]


async def test_contended_batches_leave_no_partial_grants(store: Store, studio: Studio):
    rng = random.Random(7)
    targets = [node(n) for n in NODE_IDS]
    batches = {f"user-{i}": rng.sample(targets, rng.randint(2, 4)) for i in range(24)}

    async def attempt(holder: str, batch: list[LockTarget]) -> bool:
        repo = LockRepository(studio.org.id, store.db, store.clock)
        try:
            await repo.acquire(studio.journey.id, batch, mode="edit", holder=holder, lease=EDIT)
        except LockConflict:
            return False
        return True

    outcome = dict(
        zip(
            batches,
            await asyncio.gather(*(attempt(h, b) for h, b in batches.items())),
            strict=True,
        )
    )
    leases = await LockRepository(studio.org.id, store.db, store.clock).leases(studio.journey.id)
    held: dict[str, set[LockTarget]] = {}
    for lock in leases:
        held.setdefault(lock.holder, set()).add(lock.target)
    assert any(outcome.values())
    for holder, batch in batches.items():
        expected = set(batch) if outcome[holder] else set()
        assert held.get(holder, set()) == expected, holder
    # One editor per target, whatever the interleaving.
    assert len({lock.target for lock in leases}) == len(leases)


async def test_view_leases_are_shared_and_name_the_editor(locks: LockRepository, studio: Studio):
    await locks.acquire(
        studio.journey.id, [node("brochure")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    for viewer in (studio.photographer.id, studio.viewer.id):
        got = await locks.acquire(
            studio.journey.id, [node("brochure")], mode="view", holder=viewer, lease=VIEW
        )
        assert got.granted[0].mode == "view"
        assert got.granted[0].fencing_token == 0
        assert [e.holder for e in got.editors] == [studio.planner.id]
    # Viewing never blocks an edit grant or the editor's write.
    await locks.release(studio.journey.id, [node("brochure")], holder=studio.planner.id)
    await locks.acquire(
        studio.journey.id,
        [node("brochure")],
        mode="edit",
        holder=studio.photographer.id,
        lease=EDIT,
    )
    modes = sorted((lock.holder, lock.mode) for lock in await locks.leases(studio.journey.id))
    assert modes == sorted(
        [
            (studio.photographer.id, "edit"),
            (studio.photographer.id, "view"),
            (studio.viewer.id, "view"),
        ]
    )


async def test_renew_extends_live_leases_and_reports_lost_ones(
    locks: LockRepository, studio: Studio, clock: TestClock
):
    await locks.acquire(
        studio.journey.id,
        [node("start"), node("brochure")],
        mode="edit",
        holder=studio.planner.id,
        lease=EDIT,
    )
    clock.advance(minutes=4)
    renewed = await locks.renew(
        studio.journey.id,
        [node("start"), node("brochure")],
        mode="edit",
        holder=studio.planner.id,
        lease=EDIT,
    )
    assert [r.expires_at for r in renewed.renewed] == [clock.now() + EDIT] * 2
    assert renewed.lost == []

    await locks.force_release(
        studio.journey.id, [node("brochure")], actor=f"user:{studio.owner.id}", reason="stuck"
    )
    await locks.acquire(
        studio.journey.id,
        [node("brochure")],
        mode="edit",
        holder=studio.photographer.id,
        lease=EDIT,
    )
    renewed = await locks.renew(
        studio.journey.id,
        [node("start"), node("brochure")],
        mode="edit",
        holder=studio.planner.id,
        lease=EDIT,
    )
    assert [r.target for r in renewed.renewed] == [node("start")]
    assert renewed.lost == [node("brochure")]
    assert [h.holder for h in renewed.holders] == [studio.photographer.id]

    # A stale tab of the same user presenting an old token loses its lease.
    clock.advance(EDIT)
    fresh = await locks.acquire(
        studio.journey.id, [node("start")], mode="edit", holder=studio.planner.id, lease=EDIT
    )
    stale = await locks.renew(
        studio.journey.id,
        [node("start")],
        mode="edit",
        holder=studio.planner.id,
        lease=EDIT,
        tokens={node("start"): fresh.granted[0].fencing_token - 1},
    )
    assert stale.lost == [node("start")]


async def test_force_release_is_logged(locks: LockRepository, studio: Studio, store: Store):
    await locks.acquire(
        studio.journey.id,
        [node("wait"), edge("e-start-brochure")],
        mode="edit",
        holder=studio.planner.id,
        holder_name="Pia Planner",
        lease=EDIT,
    )
    dropped = await locks.force_release(
        studio.journey.id, None, actor=f"user:{studio.owner.id}", reason="Pia is on leave"
    )
    assert {d.target for d in dropped} == {node("wait"), edge("e-start-brochure")}
    assert await locks.leases(studio.journey.id) == []
    entries = await store.db.execute(
        "SELECT kind, actor, message, step_id, edge_id FROM automation_log "
        "WHERE organization_id = {} ORDER BY step_id",
        studio.org.id,
    )
    assert {e["kind"] for e in entries} == {"lock.force_released"}
    assert {e["actor"] for e in entries} == {f"user:{studio.owner.id}"}
    assert {e["step_id"] for e in entries} == {"wait", None}
    assert {e["edge_id"] for e in entries} == {"e-start-brochure", None}
    assert all("Pia Planner" in e["message"] and "on leave" in e["message"] for e in entries)


async def test_fence_rules(locks: LockRepository, studio: Studio, clock: TestClock):
    j = studio.journey.id
    # Unlocked targets: writes need no token.
    await locks.check_fences(j, [node("start")], holder=studio.photographer.id, tokens={})
    got = await locks.acquire(j, [node("start")], mode="edit", holder=studio.planner.id, lease=EDIT)
    token = got.granted[0].fencing_token
    # The holder with the current token passes.
    await locks.check_fences(
        j, [node("start")], holder=studio.planner.id, tokens={node("start"): token}
    )
    # Someone else — with or without a token — is refused, the holder named.
    for tokens in ({}, {node("start"): token}):
        with pytest.raises(FenceRefused) as refused:
            await locks.check_fences(
                j, [node("start")], holder=studio.photographer.id, tokens=tokens
            )
        assert refused.value.refusals[0].holder is not None
    # The holder forgetting its token is told which one to send.
    with pytest.raises(FenceRefused) as refused:
        await locks.check_fences(j, [node("start")], holder=studio.planner.id, tokens={})
    assert f"node:start={token}" in str(refused.value)
    # A lapsed lease nobody took over: the old token is no longer good.
    clock.advance(EDIT)
    with pytest.raises(FenceRefused) as refused:
        await locks.check_fences(
            j, [node("start")], holder=studio.planner.id, tokens={node("start"): token}
        )
    assert refused.value.refusals[0].reason == "not_held"


async def test_unknown_targets_and_other_organizations(
    locks: LockRepository, studio: Studio, store: Store
):
    with pytest.raises(NotFound, match="nope"):
        await locks.acquire(studio.journey.id, [node("nope")], mode="edit", holder="u", lease=EDIT)
    with pytest.raises(NotFound, match="e-start-brochure"):
        # An edge id named as a node is not a node.
        await locks.acquire(
            studio.journey.id, [node("e-start-brochure")], mode="edit", holder="u", lease=EDIT
        )
    with pytest.raises(NotFound, match="journey"):
        await locks.acquire(
            studio.other_journey.id, [node("start")], mode="edit", holder="u", lease=EDIT
        )
    theirs = LockRepository(studio.other_org.id, store.db, store.clock)
    await locks.acquire(studio.journey.id, [node("start")], mode="edit", holder="u", lease=EDIT)
    assert await theirs.leases(studio.journey.id) == []
    assert await theirs.force_release(studio.other_journey.id, None, actor="x") == []
    assert len(await locks.leases(studio.journey.id)) == 1


async def test_sweep_returns_each_lapsed_lease_once(
    locks: LockRepository, studio: Studio, store: Store, clock: TestClock
):
    await locks.acquire(studio.journey.id, [node("start")], mode="view", holder="a", lease=VIEW)
    await locks.acquire(studio.journey.id, [node("end")], mode="edit", holder="b", lease=EDIT)
    clock.advance(VIEW)
    first, second = await asyncio.gather(
        sweep_expired_locks(store.db, clock.now()), sweep_expired_locks(store.db, clock.now())
    )
    swept = first + second
    assert [(s.target, s.mode) for s in swept] == [(node("start"), "view")]
    assert [lock.target for lock in await locks.leases(studio.journey.id)] == [node("end")]
