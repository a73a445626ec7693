"""Engine state survives storage: every field the engine reads back, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec

from aisle.clock import TestClock
from aisle.domain import Contact
from aisle.engine.core import recompute, start, tick
from aisle.storage import Store

from .graphs import compiled, contact, edge, graph, step


async def test_recomputed_state_round_trips_and_keeps_its_past_policy(
    store: Store, clock: TestClock, builtin_registry
) -> None:
    g = graph(
        [step("hold"), step("reminder", "end", outcome="reminded"), step("later", "end")],
        [
            edge("q", "hold", "reminder", "date_reached", days=-30, if_past="skip", priority=1),
            edge("fallback", "hold", "later", "time_delay", days=200),
        ],
    )
    journey = compiled(g, builtin_registry)
    scope = store.for_org((await store.organizations.create(slug="s", name="S")).id)
    row = await scope.contacts.create(Contact(email="c@x.test"))
    draft = await scope.journeys.create(name="J")
    entered = datetime(2026, 1, 5, 10, tzinfo=UTC)
    state = start(journey, scope.enrollments.new_id(), contact(date(2026, 6, 20)), entered).state
    await scope.enrollments.create(contact_id=row.id, journey_id=draft.id, version=1, state=state)

    # The wedding moves to 2026-05-25 on 2026-05-10: "30 days before" is past: skipped.
    moved_on = datetime(2026, 5, 10, tzinfo=UTC)
    sooner = contact(date(2026, 5, 25))
    after = recompute(journey, state, sooner, moved_on).state
    assert after.rescheduled_at == moved_on
    await scope.enrollments.save(after)
    loaded = (await scope.enrollments.get(state.enrollment_id)).state
    assert loaded == after

    # The fallback's tick, from the stored state, must not resurrect the skipped edge.
    fallback_at = entered + timedelta(days=200)
    assert loaded.wake_at == fallback_at
    done = tick(journey, loaded, sooner, fallback_at).state
    assert done.outcome == "completed"
    assert done.step_id == "later"
    # Had the recompute time been lost, the skipped edge (first by priority) would win.
    forgetful = msgspec.structs.replace(loaded, rescheduled_at=None)
    assert tick(journey, forgetful, sooner, fallback_at).state.outcome == "reminded"
    del clock
