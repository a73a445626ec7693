"""The counts the dashboard's pictures draw: couples at each step now, runs per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aisle.clock import TestClock
from aisle.domain import Contact, EnrollmentState
from aisle.services.stats import JourneyStatistics, RunsOnDay
from aisle.storage.store import OrgScope, Store


async def _scope(store: Store, slug: str) -> OrgScope:
    return store.for_org((await store.organizations.create(slug=slug, name=slug)).id)


async def _enroll(scope: OrgScope, journey_id: str, step: str, status: str = "active") -> None:
    contact = await scope.contacts.create(Contact(email=f"{scope.enrollments.new_id()}@x.test"))
    state = EnrollmentState(
        enrollment_id=scope.enrollments.new_id(), step_id=step, status=status, visit=1
    )
    await scope.enrollments.create(
        contact_id=contact.id, journey_id=journey_id, version=1, state=state
    )


async def test_couples_at_each_step_counts_active_enrollments_only(store: Store) -> None:
    scope = await _scope(store, "north")
    journey = await scope.journeys.create(name="J")
    for step in ("welcome", "welcome", "wait"):
        await _enroll(scope, journey.id, step)
    await _enroll(scope, journey.id, "end", status="completed")
    await _enroll(scope, journey.id, "wait", status="failed")
    other = await _scope(store, "south")
    await _enroll(other, journey.id, "welcome")  # another studio's row under the same id
    stats = JourneyStatistics(scope)
    assert await stats.at_each_step(journey.id) == {"welcome": 2, "wait": 1}
    assert await JourneyStatistics(other).at_each_step("no-such-journey") == {}


async def _finish(store: Store, scope: OrgScope, clock: TestClock, at: datetime, status: str):
    clock.set(at - timedelta(minutes=1))
    run, _ = await scope.action_runs.create(
        executor="email", config={}, idempotency_key=scope.action_runs.org_id + at.isoformat()
    )
    claimed = await store.outbox.claim(run.id, worker="w", lease_until=at + timedelta(minutes=5))
    assert claimed is not None
    clock.set(at)
    assert await store.outbox.finish(claimed, status=status)


async def test_runs_per_day_in_the_studio_timezone(store: Store, clock: TestClock) -> None:
    scope = await _scope(store, "north")
    # 2026-03-29: the clocks go forward in London; local days are midnight to midnight.
    now = datetime(2026, 3, 30, 15, tzinfo=UTC)
    finished = [
        (datetime(2026, 3, 30, 9, tzinfo=UTC), "succeeded"),
        (datetime(2026, 3, 30, 9, 5, tzinfo=UTC), "dead"),
        # 23:30 UTC on the 29th is 00:30 on the 30th in London (BST).
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "succeeded"),
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "succeeded"),  # 28th, still GMT
        (datetime(2026, 3, 17, 12, tzinfo=UTC), "dead"),  # the first of the 14 days
        (datetime(2026, 3, 16, 12, tzinfo=UTC), "succeeded"),  # before them
        (datetime(2026, 3, 30, 23, 30, tzinfo=UTC), "succeeded"),  # tomorrow, locally
    ]
    for at, status in sorted(finished):
        await _finish(store, scope, clock, at, status)
    # A cancelled run and one still waiting count for nothing.
    await scope.action_runs.create(executor="email", config={}, idempotency_key="w")
    cancelled, _ = await scope.action_runs.create(executor="email", config={}, idempotency_key="c")
    await scope.action_runs.cancel(cancelled.id)
    other = await _scope(store, "south")
    await _finish(store, other, clock, datetime(2026, 3, 31, 10, tzinfo=UTC), "succeeded")
    await _finish(store, other, clock, datetime(2026, 3, 31, 10, 1, tzinfo=UTC), "dead")

    days = await JourneyStatistics(scope).runs_per_day("Europe/London", now=now)
    assert [d.day for d in days] == [date(2026, 3, 17) + timedelta(days=i) for i in range(14)]
    counted = {d.day: (d.sent, d.failed) for d in days if d.sent or d.failed}
    assert counted == {
        date(2026, 3, 17): (0, 1),
        date(2026, 3, 28): (1, 0),
        date(2026, 3, 30): (2, 1),
    }
    # The clock's today when no moment is given; other zones shift the days.
    assert clock.now().date() == date(2026, 3, 31)
    assert (await JourneyStatistics(scope).runs_per_day("UTC", days=3)) == [
        RunsOnDay(day=date(2026, 3, 29), sent=1, failed=0),
        RunsOnDay(day=date(2026, 3, 30), sent=2, failed=1),
        RunsOnDay(day=date(2026, 3, 31)),  # the other studio's runs are not counted
    ]
