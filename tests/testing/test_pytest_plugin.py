"""The pytest plugin's fixtures: a studio's journey walked end to end through them."""

from __future__ import annotations

from datetime import timedelta

import httpx

from aisle.clock import TestClock
from aisle.domain.contact import Contact
from aisle.domain.journey import Edge, Graph, JourneySettings, Step
from aisle.runtime.service import Runtime
from aisle.testing import SAMPLE_NOW, InProcessJobs, Studio

# Two days after enrolling, a task for the couple; completing it ends the journey.
JOURNEY = Graph(
    steps=(
        Step(id="wait", type="wait", label="Give them two days"),
        Step(
            id="todo",
            type="client_action",
            label="Questionnaire",
            config={"title": "Fill in the questionnaire"},
        ),
        Step(id="done", type="end", label="Done"),
    ),
    edges=(
        Edge(id="later", source="wait", target="todo", trigger="time_delay", config={"days": 2}),
        Edge(id="answered", source="todo", target="done", trigger="task_completed"),
    ),
    settings=JourneySettings(start_step="wait"),
)


async def test_fixtures_walk_a_journey_through_storage_jobs_and_the_api(
    aisle_client: httpx.AsyncClient,
    aisle_studio: Studio,
    aisle_runtime: Runtime,
    aisle_jobs: InProcessJobs,
    aisle_clock: TestClock,
) -> None:
    health = await aisle_client.get("/healthz")
    assert health.status_code == 200

    scope = aisle_studio.scope
    journey = await scope.journeys.create(name="Questionnaire")
    await scope.journeys.publish(journey.id, JOURNEY)
    contact = await aisle_runtime.create_contact(aisle_studio.id, Contact(email="a@example.com"))
    enrollment = await aisle_runtime.enroll(
        aisle_studio.id, contact_id=contact.id, journey_id=journey.id
    )

    await aisle_jobs.advance(days=1)
    assert not await scope.tasks.list()

    await aisle_jobs.advance(timedelta(days=1, minutes=1))
    [task] = await scope.tasks.list()
    assert task.title == "Fill in the questionnaire"

    await aisle_runtime.complete_task(aisle_studio.id, task.id)
    await aisle_jobs.drain()
    shown = await aisle_client.get(f"/api/v1/enrollments/{enrollment.id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "completed"
    assert aisle_clock.now() == SAMPLE_NOW + timedelta(days=2, minutes=1)
