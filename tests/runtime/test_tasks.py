"""Completing tasks: ``task.completed`` names the task's kind, step and step visit, so a
``task_completed`` trigger matches by kind and a task left from an earlier pass through
a looping step does not move the client on."""

from __future__ import annotations

from aisle.domain import Contact, Edge, Graph, JourneySettings, Step
from aisle.jobs import drain
from aisle.runtime import Runtime
from aisle.storage.store import OrgScope

from .support import open_studio


def _proofing() -> Graph:
    """The couple approves album proofs (a revision round sends them back to the same
    step, with a new task); then the photographer orders the album."""
    return Graph(
        steps=(
            Step(id="proofs", type="client_action", config={"title": "Approve the proofs"}),
            Step(
                id="album",
                type="vendor_action",
                config={"title": "Order the album", "vendor_type": "photographer"},
            ),
            Step(id="done", type="end"),
        ),
        edges=(
            Edge(id="approved", source="proofs", target="album", trigger="task_completed"),
            Edge(id="revise", source="proofs", target="proofs", trigger="manual"),
            Edge(
                id="ordered",
                source="album",
                target="done",
                trigger="task_completed",
                config={"kind": "vendor_action"},
            ),
        ),
        settings=JourneySettings(start_step="proofs"),
    )


async def _open_tasks(scope: OrgScope, step_id: str) -> list[str]:
    """Ids of the step's open tasks, oldest first."""
    tasks = await scope.tasks.list()
    return sorted(t.id for t in tasks if t.step_id == step_id and t.status == "open")


async def test_a_task_from_an_earlier_visit_does_not_move_the_client_on(
    runtime: Runtime,
) -> None:
    scope, journey_id = await open_studio(runtime, _proofing())
    contact = await scope.contacts.create(Contact(email="couple@x.test"))
    enrollment = await runtime.enroll(scope.org_id, contact_id=contact.id, journey_id=journey_id)
    await drain(runtime)
    await runtime.ingest_event(
        scope,
        type="manual.triggered",
        idempotency_key="revise-1",
        contact_id=contact.id,
        payload={"edge_id": "revise", "enrollment_id": enrollment.id},
    )
    await drain(runtime)
    enrollment = await scope.enrollments.get(enrollment.id)
    assert (enrollment.state.step_id, enrollment.state.visit) == ("proofs", 2)
    first, second = await _open_tasks(scope, "proofs")

    await runtime.complete_task(scope.org_id, first, by="client")
    (event,) = await scope.events.list(type="task.completed")
    assert event.status == "processed"
    assert {k: event.event.payload[k] for k in ("task_id", "kind", "step_id", "visit")} == {
        "task_id": first,
        "kind": "client_action",
        "step_id": "proofs",
        "visit": 1,
    }
    assert (await scope.enrollments.get(enrollment.id)).state == enrollment.state

    await runtime.complete_task(scope.org_id, second, by="client")
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.step_id == "album"
    await drain(runtime)
    (order,) = await _open_tasks(scope, "album")
    await runtime.complete_task(scope.org_id, order, by="user:photographer")
    payloads = [r.event.payload for r in await scope.events.list(type="task.completed")]
    (ordered,) = [p for p in payloads if p["task_id"] == order]
    assert (ordered["kind"], ordered["visit"]) == ("vendor_action", 3)
    enrollment = await scope.enrollments.get(enrollment.id)
    assert enrollment.state.status == "completed" and enrollment.state.step_id == "done"


async def test_a_task_made_outside_a_journey_step_carries_no_visit(runtime: Runtime) -> None:
    scope, _ = await open_studio(runtime)
    task, _ = await scope.tasks.create(
        title="Call the venue", assignee="vendor", details={"kind": "call"}, idempotency_key="t"
    )
    await runtime.complete_task(scope.org_id, task.id, by="user:1")
    (event,) = await scope.events.list(type="task.completed")
    assert event.event.payload["kind"] == "call" and event.event.payload["visit"] is None
