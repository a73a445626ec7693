"""Snapshots before big changes: publishing keeps the journey's previous draft and live
version, and restoring the snapshot puts them back (SQLite and PostgreSQL)."""

from __future__ import annotations

import msgspec

from aisle.cli.seed import OPERATOR, ensure_demo
from aisle.runtime import Runtime
from aisle.services.errors import Refused
from aisle.services.lifecycle import Lifecycle
from aisle.services.snapshots import Snapshots


async def test_publishing_keeps_a_snapshot_that_restores_the_previous_journey(
    runtime: Runtime,
) -> None:
    seed = await ensure_demo(runtime)
    scope = runtime.store.for_org(seed.organization)
    assert seed.journey_id is not None
    before = await scope.journeys.get(seed.journey_id)
    assert before.live_version == 1
    first, *rest = before.draft.steps
    edited = msgspec.structs.replace(first, label="Edited")
    await scope.journeys.save_draft(
        before.id, msgspec.structs.replace(before.draft, steps=[edited, *rest])
    )
    lifecycle = Lifecycle(runtime, scope, OPERATOR)
    await lifecycle.publish(before.id, "second")

    snapshots = Snapshots(runtime.store, scope, "admin:test")
    listed = await snapshots.list()
    assert [(s.kind, s.journey_id) for s in listed[:1]] == [("publish", before.id)]
    assert listed[0].enrollments == len(
        await scope.enrollments.list(journey_id=before.id, status="active", limit=1000)
    )

    restored = await snapshots.restore(listed[0].id)
    assert restored.restored_by == "admin:test" and restored.restored_at is not None
    after = await scope.journeys.get(before.id)
    assert after.live_version == 1
    assert after.draft.steps[0].label == "Edited"  # the draft as it was before publishing
    assert after.revision > before.revision

    try:
        await snapshots.restore("nope")
    except Refused as refused:
        assert refused.status == 404 and refused.errors[0].field == "id"
    else:
        raise AssertionError("restoring an unknown snapshot was not refused")
