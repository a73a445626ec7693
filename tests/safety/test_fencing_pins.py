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


async def test_every_written_target_is_checked_and_each_refusal_says_what_and_who(
    place: tuple[LockRepository, str], clock: TestClock
) -> None:
    locks, journey = place
    mine = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    await locks.acquire(
        journey, [DECIDE], mode="edit", holder="phil", holder_name="Phil", lease=EDIT
    )
    token = mine.granted[0].fencing_token
    # The first target (decide) is someone else's; the one after it must still be checked.
    gone = LockTarget("node", "zz-gone")
    with pytest.raises(FenceRefused) as refused:
        await locks.check_fences(
            journey, [WAIT, DECIDE, gone], holder="pia", tokens={WAIT: token, gone: 7}
        )
    by_target = {r.target: r for r in refused.value.refusals}
    assert set(by_target) == {DECIDE, gone}
    other = by_target[DECIDE]
    assert other.reason == "locked" and other.presented_token is None
    assert other.message.startswith("node 'decide' is locked for editing by Phil until ")
    lapsed = by_target[gone]
    assert lapsed.reason == "not_held" and lapsed.presented_token == 7
    assert lapsed.message == (
        "fencing token 7 for node 'zz-gone' is no longer valid: the lease expired or was "
        "released; acquire the lock again and refetch"
    )
    with pytest.raises(FenceRefused) as stale:
        await locks.check_fences(journey, [WAIT], holder="pia", tokens={WAIT: token + 5})
    [refusal] = stale.value.refusals
    assert refusal.presented_token == token + 5 and refusal.holder is not None


async def test_a_renewal_names_who_holds_what_it_lost(
    place: tuple[LockRepository, str], clock: TestClock
) -> None:
    locks, journey = place
    first = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    clock.advance(EDIT)
    second = await locks.acquire(journey, [WAIT], mode="edit", holder="pia", lease=EDIT)
    old, new = first.granted[0].fencing_token, second.granted[0].fencing_token
    # A stale tab of the same person lost the lease to the newer one: it is named.
    stale = await locks.renew(
        journey, [WAIT], mode="edit", holder="pia", lease=EDIT, tokens={WAIT: old}
    )
    assert [(h.holder, h.fencing_token) for h in stale.holders] == [("pia", new)]
    # A view lease renewed with the current edit token: lost, but nobody else holds it.
    viewing = await locks.renew(
        journey, [WAIT], mode="view", holder="pia", lease=EDIT, tokens={WAIT: new}
    )
    assert viewing.lost == [WAIT] and viewing.holders == []
    untokened = await locks.renew(journey, [WAIT], mode="view", holder="pia", lease=EDIT)
    assert untokened.lost == [WAIT] and untokened.holders == []
