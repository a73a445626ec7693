"""Pins on outbox claims (``storage/outbox.py``): a run is handed out when due and not
recently dispatched, claimed by one worker at a time, finished only by the claim that
holds it, and taken back from a worker whose lease ran out — ``dead`` once its attempts
are used up. On SQLite and PostgreSQL (found by scripts/mutation)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from aisle.clock import TestClock
from aisle.storage.outbox import ExpiredClaim
from aisle.storage.store import OrgScope, Store

LEASE = timedelta(minutes=1)


async def _scope(store: Store) -> OrgScope:
    org = await store.organizations.create(slug="outbox", name="Outbox")
    return store.for_org(org.id)


async def _run(scope: OrgScope, key: str = "k", max_attempts: int = 3) -> str:
    run, _ = await scope.action_runs.create(
        executor="webhook", config={}, idempotency_key=key, max_attempts=max_attempts
    )
    return run.id


async def test_an_unknown_run_is_none(store: Store) -> None:
    assert await store.outbox.get("run_missing") is None


async def test_a_run_is_handed_out_again_only_once_redispatch_time_has_passed(
    store: Store, clock: TestClock
) -> None:
    scope = await _scope(store)
    run_id = await _run(scope)
    assert await store.outbox.take_due(limit=10, redispatch_after=60) == [run_id]
    clock.advance(seconds=59)
    assert await store.outbox.take_due(limit=10, redispatch_after=60) == []
    clock.advance(seconds=1)  # exactly the redispatch time: the message counts as lost
    assert await store.outbox.take_due(limit=10, redispatch_after=60) == [run_id]


async def test_a_run_not_due_is_not_handed_out_even_if_never_dispatched(
    store: Store, clock: TestClock
) -> None:
    scope = await _scope(store)
    run_id = await _run(scope)
    assert await store.outbox.defer(run_id, clock.now() + timedelta(hours=1))
    assert await store.outbox.take_due(limit=10, redispatch_after=0) == []
    clock.advance(hours=1)
    assert await store.outbox.take_due(limit=10, redispatch_after=0) == [run_id]


async def test_only_the_claim_that_holds_a_run_finishes_it(store: Store, clock: TestClock) -> None:
    scope = await _scope(store)
    run_id = await _run(scope)
    first = await store.outbox.claim(run_id, worker="w1", lease_until=clock.now() + LEASE)
    assert first is not None and first.attempts == 1
    clock.advance(LEASE + timedelta(seconds=1))
    assert len(await store.outbox.expire_claims()) == 1
    second = await store.outbox.claim(run_id, worker="w2", lease_until=clock.now() + LEASE)
    assert second is not None and second.attempts == 2
    # The first worker comes back: same worker name would not help either, nor the
    # attempt number alone.
    assert not await store.outbox.finish(first, status="succeeded", result={"late": True})
    impostor = type(second)(**{**_fields(second), "claimed_by": "w1"})
    assert not await store.outbox.finish(impostor, status="succeeded")
    earlier = type(second)(**{**_fields(second), "attempts": 1})
    assert not await store.outbox.finish(earlier, status="succeeded")
    assert await store.outbox.finish(second, status="succeeded", result={"ok": True})
    done = await store.outbox.get(run_id)
    assert done is not None and done.status == "succeeded" and done.result == {"ok": True}
    assert not await store.outbox.finish(second, status="failed")  # not running any more


def _fields(run: Any) -> dict[str, Any]:
    return {name: getattr(run, name) for name in run.__struct_fields__}


async def test_a_failed_attempt_waits_for_its_retry_and_is_handed_out_then(
    store: Store, clock: TestClock
) -> None:
    scope = await _scope(store)
    run_id = await _run(scope)
    assert await store.outbox.take_due(limit=10, redispatch_after=3600) == [run_id]
    claimed = await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    assert claimed is not None
    retry_at = clock.now() + timedelta(seconds=30)
    assert await store.outbox.finish(
        claimed, status="failed", error="x" * 5000, next_attempt_at=retry_at
    )
    failed = await store.outbox.get(run_id)
    assert failed is not None and failed.last_error == "x" * 4000
    # Dispatched before, yet handed out as soon as the retry is due: a new attempt.
    clock.set(retry_at)
    assert await store.outbox.take_due(limit=10, redispatch_after=3600) == [run_id]


async def test_a_lease_lapses_after_its_end_not_at_it(store: Store, clock: TestClock) -> None:
    scope = await _scope(store)
    run_id = await _run(scope)
    await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    clock.advance(LEASE)
    assert await store.outbox.expire_claims() == []
    clock.advance(seconds=1)
    [expired] = await store.outbox.expire_claims()
    assert expired == ExpiredClaim(
        run_id=run_id, organization_id=scope.org_id, attempt=1, claimed_by="w", new_status="failed"
    )
    run = await store.outbox.get(run_id)
    assert run is not None and run.status == "failed" and run.finished_at is None
    assert run.next_attempt_at == clock.now()
    assert "worker w lost the run: lease expired during attempt 1" in (run.last_error or "")
    assert await store.outbox.take_due(limit=10, redispatch_after=3600) == [run_id]


async def test_a_lost_last_attempt_is_dead(store: Store, clock: TestClock) -> None:
    scope = await _scope(store)
    run_id = await _run(scope, max_attempts=2)
    other_id = await _run(scope, key="other", max_attempts=2)
    await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    await store.outbox.expire_claims()
    await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    # Another worker's run, its lease still good, is running meanwhile.
    await store.outbox.claim(other_id, worker="w2", lease_until=clock.now() + LEASE)
    expired = await store.outbox.expire_claims()
    assert [(e.run_id, e.attempt, e.new_status) for e in expired] == [(run_id, 2, "dead")]
    run = await store.outbox.get(run_id)
    assert run is not None and run.status == "dead" and run.finished_at == clock.now()
    # Expiring one run leaves the others alone.
    other = await store.outbox.get(other_id)
    assert other is not None and other.status == "running" and other.claimed_by == "w2"


async def test_expiring_takes_a_hundred_at_a_time_by_default(
    store: Store, clock: TestClock
) -> None:
    scope = await _scope(store)
    for n in range(101):
        run_id = await _run(scope, key=f"k{n}")
        await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    assert len(await store.outbox.expire_claims()) == 100
    assert len(await store.outbox.expire_claims()) == 1


async def test_expiring_takes_at_most_the_limit(store: Store, clock: TestClock) -> None:
    scope = await _scope(store)
    ids = [await _run(scope, key=f"k{n}") for n in range(3)]
    for run_id in ids:
        await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    assert len(await store.outbox.expire_claims(limit=2)) == 2
    assert len(await store.outbox.expire_claims(limit=2)) == 1


@pytest.mark.parametrize(
    "db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_relays_and_sweepers_skip_rows_another_transaction_holds(
    store: Store, clock: TestClock
) -> None:
    scope = await _scope(store)
    held_id = await _run(scope, key="held")
    free_id = await _run(scope, key="free")
    lock = "SELECT id FROM action_runs WHERE id = $1 FOR UPDATE"
    async with holding(store) as other, other.transaction():
        await other.execute(lock, held_id)
        async with asyncio.timeout(5):  # waiting for the held row would hang here
            assert await store.outbox.take_due(limit=10, redispatch_after=60) == [free_id]
    for run_id in (held_id, free_id):
        await store.outbox.claim(run_id, worker="w", lease_until=clock.now() + LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    async with holding(store) as other, other.transaction():
        await other.execute(lock, held_id)
        async with asyncio.timeout(5):
            expired = await store.outbox.expire_claims()
    assert [e.run_id for e in expired] == [free_id]


@contextlib.asynccontextmanager
async def holding(store: Store) -> AsyncIterator[Any]:
    """A connection of its own, as another relay or sweeper process would have."""
    import asyncpg

    connection = await asyncpg.connect(store.db.url)
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_next_due_time_is_the_earliest_waiting_run(
    store: Store, clock: TestClock
) -> None:
    assert await store.outbox.next_due_at() is None
    scope = await _scope(store)
    later = await _run(scope, key="later")
    sooner = await _run(scope, key="sooner")
    running = await _run(scope, key="running")
    await store.outbox.defer(later, clock.now() + timedelta(hours=2))
    await store.outbox.defer(sooner, clock.now() + timedelta(hours=1))
    await store.outbox.claim(running, worker="w", lease_until=clock.now() + LEASE)
    # The running one is no longer waiting: the earliest waiting run decides.
    assert await store.outbox.next_due_at() == clock.now() + timedelta(hours=1)
