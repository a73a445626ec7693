"""Pins on fencing (``storage/collab_locks.py``): a lock's holder writes only with the
token of its live lease. An older token of its own (a tab left open across a lapsed and
re-acquired lease), a token it was never given, or a token for another target is
refused as stale, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aisle.clock import TestClock
from aisle.storage.collab_locks import FenceRefused, LockRepository, LockTarget
from aisle.storage.store import Store
from tests.collab.conftest import sample_graph

EDIT = timedelta(minutes=5)
WAIT = LockTarget("node", "wait")
DECIDE = LockTarget("node", "decide")


@pytest.fixture
async def place(store: Store) -> tuple[LockRepository, str]:
    org = await store.organizations.create(slug="fenced", name="Fenced")
    journey = await store.for_org(org).journeys.create(name="J", draft=sample_graph())
    return LockRepository(org.id, store.db, store.clock), journey.id


async def _refusal(
    locks: LockRepository, journey: str, tokens: dict[LockTarget, int], targets: list[LockTarget]
) -> list[tuple[LockTarget, str]]:
    with pytest.raises(FenceRefused) as refused:
        await locks.check_fences(journey, targets, holder="pia", tokens=tokens)
    return [(r.target, r.reason) for r in refused.value.refusals]


async def test_the_holder_with_its_own_older_token_is_refused(
    place: tuple[LockRepository, str], clock: TestClock
) -> None:
    locks, journey = place
    first = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    old = first.granted[0].fencing_token
    clock.advance(EDIT)  # lapsed; the same holder takes it again, with the next token
    second = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    new = second.granted[0].fencing_token
    assert new == old + 1
    assert await _refusal(locks, journey, {WAIT: old}, [WAIT]) == [(WAIT, "stale_token")]
    await locks.check_fences(journey, [WAIT], holder="pia", tokens={WAIT: new})


async def test_the_holder_with_a_token_it_was_never_given_is_refused(
    place: tuple[LockRepository, str],
) -> None:
    locks, journey = place
    got = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    token = got.granted[0].fencing_token
    for guess in (token + 1, token - 1, 0):
        assert await _refusal(locks, journey, {WAIT: guess}, [WAIT]) == [(WAIT, "stale_token")]


async def test_a_token_of_another_target_does_not_fence_this_one(
    place: tuple[LockRepository, str],
) -> None:
    locks, journey = place
    got = await locks.acquire(journey, [WAIT, DECIDE], mode="edit", holder="pia", lease=EDIT)
    tokens = {lock.target: lock.fencing_token for lock in got.granted}
    # Writing both, with only the token of one: the other is refused.
    assert await _refusal(locks, journey, {WAIT: tokens[WAIT]}, [WAIT, DECIDE]) == [
        (DECIDE, "locked")
    ]
    swapped = {WAIT: tokens[DECIDE], DECIDE: tokens[WAIT]}
    if tokens[WAIT] != tokens[DECIDE]:
        refused = await _refusal(locks, journey, swapped, [WAIT, DECIDE])
        assert refused == [(DECIDE, "stale_token"), (WAIT, "stale_token")]
    await locks.check_fences(journey, [WAIT, DECIDE], holder="pia", tokens=tokens)


async def test_a_renewal_with_an_older_token_loses_the_lease(
    place: tuple[LockRepository, str], clock: TestClock
) -> None:
    locks, journey = place
    first = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    clock.advance(EDIT)
    second = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    stale = await locks.renew(
        journey,
        [WAIT],
        mode="edit",
        holder="pia",
        lease=EDIT,
        tokens={WAIT: first.granted[0].fencing_token},
    )
    assert stale.lost == [WAIT] and stale.renewed == []
    fresh = await locks.renew(
        journey,
        [WAIT],
        mode="edit",
        holder="pia",
        lease=EDIT,
        tokens={WAIT: second.granted[0].fencing_token},
    )
    assert [lock.target for lock in fresh.renewed] == [WAIT] and fresh.lost == []
