"""Events: idempotent acceptance, ordering per contact, and crash safety."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from aisle.clock import TestClock, utcnow
from aisle.contracts.hooks import hookimpl
from aisle.contracts.nodes import NodeType
from aisle.domain import Contact, Graph, JourneySettings, Step
from aisle.domain.journey import EntryCriteria
from aisle.jobs import drain
from aisle.plugins.manager import load_registry
from aisle.runtime import MAX_EVENT_ATTEMPTS, Runtime

from .support import ENQUIRY, enquire, open_studio


async def test_a_replayed_event_returns_the_original_and_changes_nothing(
    runtime: Runtime, recorder: Any
) -> None:
    scope, _ = await open_studio(runtime)
    contact = await runtime.create_contact(scope.org_id, Contact(email="a@x.test"))
    first, created = await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key="form-123",
        contact_id=contact.id,
        payload=ENQUIRY,
    )
    again, created_again = await runtime.ingest_event(
        scope,
        type="form.submitted",
        idempotency_key="form-123",
        contact_id=contact.id,
        payload={"form_id": "something else"},
    )
    assert created and not created_again
    assert again.event == first.event and again.status == "processed"
    assert len(await scope.enrollments.list(contact_id=contact.id)) == 1
    assert len(await scope.action_runs.list()) == 1
    assert len(await scope.events.list(type="form.submitted")) == 1


async def test_concurrent_duplicates_store_one_event(runtime: Runtime) -> None:
    scope, _ = await open_studio(runtime)
    contact = await runtime.create_contact(scope.org_id, Contact(email="a@x.test"))
    results = await asyncio.gather(
        *(
            runtime.ingest_event(
                scope,
                type="form.submitted",
                idempotency_key="dup",
                contact_id=contact.id,
                payload=ENQUIRY,
            )
            for _ in range(8)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({record.event.id for record, _ in results}) == 1
    assert len(await scope.enrollments.list(contact_id=contact.id)) == 1


async def test_events_of_one_contact_apply_in_arrival_order(
    runtime: Runtime, clock: TestClock
) -> None:
    scope, _ = await open_studio(runtime)
    contact = await runtime.create_contact(scope.org_id, Contact(email="a@x.test"))
    # Accepted but not processed (as if a crash came between), in this order:
    for key, payload in [("1", ENQUIRY), ("2", {"form_id": "withdraw"}), ("3", ENQUIRY)]:
        await scope.events.accept(
            type="form.submitted", idempotency_key=key, contact_id=contact.id, payload=payload
        )
    await drain(runtime)
    enrollments = await scope.enrollments.list(contact_id=contact.id)
    # enrolled, withdrew (exit), enrolled again (after_completion allows it)
    assert [e.state.status for e in enrollments] == ["exited", "active"]


class _Extra:
    """A plugin with a node type of its own (installed later in the test)."""

    @hookimpl
    def aisle_node_types(self) -> list[NodeType]:
        from aisle.contracts.nodes import Complete, NodeContext, NodeOutcome

        def on_enter(ctx: NodeContext) -> NodeOutcome:
            return Complete()

        return [NodeType(name="extra_step", on_enter=on_enter, terminal=True)]


def _extra_step_journey() -> Graph:
    """One step of the ``extra_step`` type, entered on any form submission."""
    return Graph(
        steps=(Step(id="only", type="extra_step"),),
        settings=JourneySettings(
            start_step="only", entry=EntryCriteria(event_type="form.submitted")
        ),
    )


def _use(runtime: Runtime, *plugins: tuple[str, object]) -> None:
    runtime.registry = load_registry(entry_points=False, extra_plugins=plugins)
    runtime.journeys = type(runtime.journeys)(runtime.registry)


async def test_a_failing_event_stays_pending_and_is_retried_until_it_gives_up(
    runtime: Runtime,
) -> None:
    """Processing that raises (here: a journey needs a plugin that is not installed)
    rolls back, keeps the event pending with the error, and is retried by the
    scheduler; after MAX_EVENT_ATTEMPTS it is marked failed and logged."""
    _use(runtime)
    scope, _ = await open_studio(runtime, _extra_step_journey())
    contact = await scope.contacts.create(Contact(email="a@x.test"))
    record, _ = await runtime.ingest_event(
        scope, type="form.submitted", idempotency_key="k", contact_id=contact.id
    )
    assert record.status == "pending" and record.attempts == 1
    assert "extra_step" in (record.error or "")
    assert await scope.enrollments.list() == []  # nothing of the failed attempt was kept

    other = await scope.contacts.create(Contact(email="b@x.test"))
    doomed, _ = await runtime.ingest_event(
        scope, type="form.submitted", idempotency_key="k2", contact_id=other.id
    )
    for _ in range(MAX_EVENT_ATTEMPTS):
        await drain(runtime)
    doomed = await scope.events.get(doomed.event.id)
    assert doomed.status == "failed" and doomed.attempts == MAX_EVENT_ATTEMPTS
    assert (await scope.log.list(event_id=doomed.event.id))[0].kind == "event.failed"

    _use(runtime, ("extra", _Extra()))  # the plugin gets installed
    await scope.events.mark_failed(record.event.id, "reset", final=False)
    # The first event also ran out of attempts meanwhile; events that did not are
    # picked up by recovery. Accept a fresh one to show processing now works:
    fresh, _ = await runtime.ingest_event(
        scope, type="form.submitted", idempotency_key="k3", contact_id=contact.id
    )
    assert fresh.status == "processed"
    (enrollment,) = await scope.enrollments.list()
    assert enrollment.state.status == "completed"


async def test_a_pending_event_is_processed_once_the_cause_is_fixed(runtime: Runtime) -> None:
    _use(runtime)
    scope, _ = await open_studio(runtime, _extra_step_journey())
    contact = await scope.contacts.create(Contact(email="a@x.test"))
    record, _ = await runtime.ingest_event(
        scope, type="form.submitted", idempotency_key="k", contact_id=contact.id
    )
    assert record.status == "pending"
    _use(runtime, ("extra", _Extra()))
    report = await drain(runtime)
    assert report.events == 1
    assert (await scope.events.get(record.event.id)).status == "processed"
    assert [e.state.status for e in await scope.enrollments.list()] == ["completed"]


async def test_an_accepted_event_survives_a_crash_mid_processing(
    runtime: Runtime, settings: Any, clock: TestClock
) -> None:
    """A real process accepts an event, writes half a transition and dies (os._exit);
    after the "restart" the event is still there, nothing half-written is, and the
    scheduler's recovery processes it."""
    scope, _ = await open_studio(runtime)
    contact = await scope.contacts.create(Contact(email="a@x.test"))
    script = Path(__file__).with_name("crash_during_processing.py")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        settings.database_url,
        scope.org_id,
        contact.id,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 9, output.decode()
    assert "dying before the commit" in output.decode()
    (record,) = await scope.events.list()
    assert record.status == "pending"
    assert await scope.enrollments.list() == []  # the transaction died with the process
    assert await scope.action_runs.list() == []

    # The crashed process stamped the event with the wall clock; bring the test clock
    # past it, as time passes across a restart.
    clock.set(max(clock.now(), utcnow()) + timedelta(seconds=1))
    report = await drain(runtime)
    assert report.events == 1
    assert (await scope.events.get(record.event.id)).status == "processed"
    (enrollment,) = await scope.enrollments.list()
    assert enrollment.state.step_id == "wait_for_reply"
    assert len(await scope.action_runs.list()) == 1


async def test_deleting_a_contact_exits_their_journeys(runtime: Runtime) -> None:
    scope, _ = await open_studio(runtime)
    contact = await runtime.create_contact(scope.org_id, Contact(email="a@x.test"))
    await enquire(runtime, scope, contact.id, "e")
    assert await runtime.delete_contact(scope.org_id, contact.id, actor="user:1") == 1
    (enrollment,) = await scope.enrollments.list(contact_id=contact.id)
    assert enrollment.state.status == "exited" and enrollment.state.wake_at is None
    assert enrollment.state.outcome == "contact_deleted"
    assert await scope.contacts.find(contact.id) is None
    assert [e.kind for e in await scope.log.list(contact_id=contact.id, limit=2)] == [
        "contact.deleted",
        "enrollment.exited",
    ]
