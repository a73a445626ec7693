"""The ``contact.created`` events of a batch: accepted in the batch's commit, processed
just after it answers (journeys start then), and never lost when the process stops
between the two. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import msgspec

from aisle.contracts.registry import Registry
from aisle.demo import demo_journey
from aisle.domain.journey import EntryCriteria
from aisle.jobs.deps import JobDeps
from aisle.jobs.scheduler import recover_events
from aisle.runtime import Runtime
from aisle.services.contacts_bulk import ContactBatch
from aisle.services.roles import Operator
from aisle.storage.events import PendingEvent
from aisle.storage.store import OrgScope, Store

ACTOR = Operator(actor="operator:test")


async def _studio(store: Store) -> OrgScope:
    """A studio whose live journey enrolls every new couple."""
    org = await store.organizations.create(slug="studio", name="Studio")
    scope = store.for_org(org)
    graph = demo_journey()
    graph = msgspec.structs.replace(
        graph,
        settings=msgspec.structs.replace(
            graph.settings, entry=EntryCriteria(event_type="contact.created"), exits=()
        ),
    )
    journey = await scope.journeys.create(name="Welcome", draft=graph)
    await scope.journeys.publish(journey.id, graph)
    return scope


def _records(n: int) -> list[bytes]:
    return [msgspec.json.encode({"email": f"couple{i}@example.com"}) for i in range(n)]


async def test_batch_created_couples_enter_journeys_just_after_the_answer(
    store: Store, registry: Registry
) -> None:
    scope = await _studio(store)
    runtime = Runtime(store, registry)
    outcomes = await ContactBatch(runtime, scope, ACTOR).upsert(_records(20))
    ids = [o.id for o in outcomes if o.status == "created" and o.id]
    assert len(ids) == 20
    deadline = time.monotonic() + 30
    while True:
        enrolled = {e.contact_id for e in await scope.enrollments.list(limit=100)}
        if enrolled >= set(ids):
            break
        assert time.monotonic() < deadline, f"{len(enrolled)} of 20 enrolled after 30 s"
        await asyncio.sleep(0.05)
    assert not await scope.events.pending_for_contact(ids[0])
    await runtime.after_commit.wait()


async def test_events_committed_before_the_process_stops_are_recovered(
    store: Store, registry: Registry
) -> None:
    scope = await _studio(store)
    runtime = Runtime(store, registry)
    outcomes = await ContactBatch(runtime, scope, ACTOR).upsert(_records(5))
    # The app stopping at once: the background task ends before its first contact.
    await runtime.after_commit.settle()
    ids = [o.id for o in outcomes if o.id]
    assert not await scope.enrollments.list(limit=100)
    assert all([await scope.events.pending_for_contact(i) for i in ids])

    # A later process (a restarted server, the scheduler) recovers them.
    recovered = await recover_events(JobDeps.of(Runtime(store, registry)), older_than=0)
    assert recovered == 5
    assert {e.contact_id for e in await scope.enrollments.list(limit=100)} == set(ids)


async def test_accept_many_skips_repeated_keys(store: Store) -> None:
    org = await store.organizations.create(slug="studio", name="Studio")
    events = store.for_org(org).events
    first = [PendingEvent(type="form.submitted", idempotency_key=f"k{i}") for i in range(3)]
    assert await events.accept_many(first) == ["k0", "k1", "k2"]
    again = [*first[1:], PendingEvent(type="form.submitted", idempotency_key="k3")]
    assert await events.accept_many(again) == ["k3"]
    assert len(await events.list(status="pending")) == 4
