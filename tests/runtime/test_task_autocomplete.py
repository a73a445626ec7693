"""A step's task is completed when the event it waited for moves the client on: the
deposit task once ``payment.received`` arrived, the questionnaire task once the form
came in (issue 11, item 8). A hand move or a later visit's task is left alone."""

from __future__ import annotations

from aisle.domain import Contact, Edge, Graph, JourneySettings, Step
from aisle.jobs import drain
from aisle.runtime import Runtime
from aisle.storage.store import OrgScope

from .support import open_studio


def _booking() -> Graph:
    """Deposit, then the questionnaire (which may be sent back for another round)."""
    return Graph(
        steps=(
            Step(
                id="deposit",
                type="payment",
                config={"amount": "500.00", "currency": "GBP", "description": "booking deposit"},
            ),
            Step(
                id="questionnaire",
                type="client_action",
                config={"title": "Fill in the questionnaire", "form_id": "questionnaire"},
            ),
            Step(id="done", type="end"),
        ),
        edges=(
            Edge(
                id="paid",
                source="deposit",
                target="questionnaire",
                trigger="payment_received",
                config={"min_amount": "500", "currency": "GBP"},
            ),
            Edge(
                id="answered",
                source="questionnaire",
                target="done",
                trigger="form_submission",
                config={"form_id": "questionnaire"},
            ),
            Edge(id="again", source="questionnaire", target="questionnaire", trigger="manual"),
        ),
        settings=JourneySettings(start_step="deposit"),
    )


async def _tasks(scope: OrgScope, step_id: str) -> list[tuple[str, str]]:
    """(title, status) of the step's tasks, oldest first."""
    tasks = sorted(
        (t for t in await scope.tasks.list() if t.step_id == step_id), key=lambda t: t.id
    )
    return [(t.title, t.status) for t in tasks]


async def _event(
    runtime: Runtime, scope: OrgScope, contact_id: str, type_: str, **payload: object
) -> None:
    await runtime.ingest_event(
        scope,
        type=type_,
        idempotency_key=f"{type_}:{len(payload)}:{payload}",
        contact_id=contact_id,
        payload=dict(payload),
    )
    await drain(runtime)


async def test_the_awaited_event_completes_the_steps_task(runtime: Runtime) -> None:
    scope, journey_id = await open_studio(runtime, _booking())
    contact = await scope.contacts.create(Contact(email="couple@example.com"))
    enrollment = await runtime.enroll(scope.org_id, contact_id=contact.id, journey_id=journey_id)
    await drain(runtime)
    assert await _tasks(scope, "deposit") == [("Pay booking deposit 500.00 GBP", "open")]

    await _event(runtime, scope, contact.id, "payment.received", amount="500.00", currency="GBP")
    assert await _tasks(scope, "deposit") == [("Pay booking deposit 500.00 GBP", "completed")]
    (task,) = [t for t in await scope.tasks.list() if t.step_id == "deposit"]
    assert task.completed_at is not None and task.approvals == ()
    assert task.details["completed_by"]["event_type"] == "payment.received"
    (logged,) = [e for e in await scope.log.list(kind="task.completed") if e.step_id == "deposit"]
    assert logged.data["reason"] == "step_left" and logged.data["edge_id"] == "paid"
    assert logged.enrollment_id == enrollment.id and logged.data["task_id"] == task.id

    # A revision round (a hand move) leaves the first questionnaire task open; the form
    # then answers the second visit's task only.
    await runtime.ingest_event(
        scope,
        type="manual.triggered",
        idempotency_key="again",
        contact_id=contact.id,
        payload={"edge_id": "again", "enrollment_id": enrollment.id},
    )
    await drain(runtime)
    assert [s for _, s in await _tasks(scope, "questionnaire")] == ["open", "open"]
    await _event(runtime, scope, contact.id, "form.submitted", form_id="questionnaire")
    assert [s for _, s in await _tasks(scope, "questionnaire")] == ["open", "completed"]
    final = await scope.enrollments.get(enrollment.id)
    assert final.state.status == "completed"


async def test_an_event_that_moves_nobody_completes_nothing(runtime: Runtime) -> None:
    scope, journey_id = await open_studio(runtime, _booking())
    contact = await scope.contacts.create(Contact(email="couple@example.com"))
    await runtime.enroll(scope.org_id, contact_id=contact.id, journey_id=journey_id)
    await drain(runtime)
    await _event(runtime, scope, contact.id, "form.submitted", form_id="questionnaire")
    await _event(runtime, scope, contact.id, "payment.received", amount="5.00", currency="EUR")
    assert await _tasks(scope, "deposit") == [("Pay booking deposit 500.00 GBP", "open")]
