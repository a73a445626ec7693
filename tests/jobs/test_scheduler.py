"""The scheduler: due wake-ups fire exactly once, even with several schedulers at once."""

from __future__ import annotations

import asyncio
from typing import Any

from aisle.api import create_app
from aisle.clock import TestClock
from aisle.domain import Contact, Edge, Graph, JourneySettings, Step
from aisle.domain.journey import EntryCriteria
from aisle.jobs import JobDeps, drain
from aisle.jobs.scheduler import fire_due_wakeups, scheduler_pass
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store

WAIT_THEN_MAIL = Graph(
    steps=(
        Step(id="wait", type="wait"),
        Step(id="mail", type="email", config={"to": "couple", "subject": "Hi", "text": "Hello"}),
        Step(id="end", type="end"),
    ),
    edges=(
        Edge(id="e1", source="wait", target="mail", trigger="time_delay", config={"days": 1}),
        Edge(id="e2", source="mail", target="end"),
    ),
    settings=JourneySettings(start_step="wait", entry=EntryCriteria(event_type="signed.up")),
)


async def test_several_schedulers_fire_each_wakeup_once(
    runtime: Runtime, clock: TestClock, recorder: Any
) -> None:
    org = await runtime.store.organizations.create(slug="s", name="S")
    scope = runtime.for_org(org.id)
    journey = await scope.journeys.create(name="J")
    await scope.journeys.publish(journey.id, WAIT_THEN_MAIL)
    count = 30
    for i in range(count):
        contact = await scope.contacts.create(Contact(email=f"c{i}@x.test"))
        await runtime.ingest_event(
            scope, type="signed.up", idempotency_key=f"k{i}", contact_id=contact.id
        )
    assert len(await scope.enrollments.list(status="active", limit=100)) == count
    assert await fire_due_wakeups(JobDeps.of(runtime)) == 0  # nothing due yet

    clock.advance(days=1)
    fired = await asyncio.gather(
        *(fire_due_wakeups(JobDeps.of(runtime), limit=count) for _ in range(3))
    )
    assert sum(fired) == count
    enrollments = await scope.enrollments.list(limit=100)
    assert {e.state.status for e in enrollments} == {"completed"}
    mails = await scope.log.list(kind="step.entered", limit=500)
    per_enrollment = [e.enrollment_id for e in mails if e.step_id == "mail"]
    assert sorted(per_enrollment) == sorted({e.id for e in enrollments})  # once each
    await drain(runtime)
    assert len(recorder.keys("email")) == count


async def test_sweepers_run_every_pass(runtime: Runtime) -> None:
    calls: list[Store] = []

    async def sweep(store: Store) -> int:
        calls.append(store)
        return 2

    runtime.sweepers["test-sweeper"] = sweep
    report = await drain(runtime)
    assert calls == [runtime.store]
    assert report.rounds == 1


async def test_an_apps_sweep_runs_only_on_its_runtime_and_only_while_it_runs(
    store: Store, registry: Any
) -> None:
    # The collaboration sweep announces on the app's hub: once the app has stopped (its
    # hub closed), or in another app's process, it must not run.
    settings = Settings(database_url=store.db.url)
    runtime = Runtime(store, registry, settings)
    app = create_app(settings, registry, store=store, runtime=runtime)
    async with app.lifespan():
        assert "collaboration" in (await scheduler_pass(JobDeps.of(runtime))).swept
        other = Runtime(store, registry, settings)
        assert (await scheduler_pass(JobDeps.of(other))).swept == {}
    assert (await scheduler_pass(JobDeps.of(runtime))).swept == {}
