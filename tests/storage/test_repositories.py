"""Round trips through every repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from aisle.clock import TestClock
from aisle.domain import Contact, EnrollmentState, Graph, Partner, Step
from aisle.storage import Conflict, NotFound, RevisionConflict, Store


async def _org(store: Store, slug: str = "studio") -> str:
    return (await store.organizations.create(slug=slug, name=slug.title())).id


async def test_organization_round_trip(store: Store) -> None:
    org = await store.organizations.create(
        slug="north", name="North Studio", timezone="Europe/London", settings={"a": [1, 2]}
    )
    assert await store.organizations.get(org.id) == org
    assert await store.organizations.by_slug("north") == org
    with pytest.raises(Conflict, match="slug 'north'"):
        await store.organizations.create(slug="north", name="Again")
    updated = await store.organizations.update(org.id, settings={"send_window": None})
    assert updated.settings == {"send_window": None}
    assert updated.created_at is not None and updated.created_at.tzinfo is not None


async def test_contact_round_trip_soft_delete_and_external_ids(
    store: Store, clock: TestClock
) -> None:
    scope = store.for_org(await _org(store))
    contact = await scope.contacts.create(
        Contact(
            partners=(Partner(first_name="Ada", last_name="L", email="ada@x.test"),),
            email="ada@x.test",
            wedding_date=date(2026, 9, 12),
            timezone="Europe/Paris",
            custom={"package": "gold", "guests": 120},
            external_ids={"tave": "T-1"},
        )
    )
    assert contact.id
    assert await scope.contacts.get(contact.id) == contact
    assert await scope.contacts.by_external_id("tave", "T-1") == contact
    moved = await scope.contacts.save(
        Contact(**{**_fields(contact), "wedding_date": date(2026, 10, 1), "external_ids": {}})
    )
    assert (await scope.contacts.get(contact.id)).wedding_date == date(2026, 10, 1)
    assert await scope.contacts.by_external_id("tave", "T-1") is None
    assert [c.id for c in await scope.contacts.list(search="ADA@")] == [moved.id]
    await scope.contacts.soft_delete(contact.id)
    with pytest.raises(NotFound):
        await scope.contacts.get(contact.id)
    assert (await scope.contacts.get(contact.id, include_deleted=True)).id == contact.id
    assert await scope.contacts.list() == []
    await scope.contacts.restore(contact.id)
    assert await scope.contacts.count() == 1


def _fields(contact: Contact) -> dict[str, object]:
    return {f: getattr(contact, f) for f in contact.__struct_fields__}


async def test_journey_draft_revisions_and_versions(store: Store, clock: TestClock) -> None:
    scope = store.for_org(await _org(store))
    journey = await scope.journeys.create(name="Client journey")
    assert journey.revision == 0 and journey.status == "draft" and journey.live_version is None
    graph = Graph(steps=(Step(id="a", type="end", label="Done"),))
    saved = await scope.journeys.save_draft(journey.id, graph, expected_revision=0)
    assert saved.revision == 1 and saved.draft == graph
    with pytest.raises(RevisionConflict) as info:
        await scope.journeys.save_draft(journey.id, Graph(), expected_revision=0)
    assert info.value.current == 1
    v1 = await scope.journeys.publish(journey.id, graph, published_by="user:1", note="first")
    clock.advance(hours=1)
    v2 = await scope.journeys.publish(journey.id, Graph(), source_version=None)
    v3 = await scope.journeys.publish(journey.id, v1.graph, source_version=1, note="rollback")
    assert [v.version for v in await scope.journeys.versions(journey.id)] == [1, 2, 3]
    assert v2.published_at - v1.published_at == timedelta(hours=1)
    assert (await scope.journeys.version(journey.id, 3)).graph == graph
    assert v3.source_version == 1
    live = await scope.journeys.get(journey.id)
    assert live.status == "live" and live.live_version == 3
    assert await scope.journeys.live_versions() == [(journey.id, 3)]
    await scope.journeys.set_status(journey.id, "paused")
    assert await scope.journeys.live_versions() == []
    await scope.journeys.soft_delete(journey.id)
    assert await scope.journeys.list() == []
    assert len(await scope.journeys.list(include_deleted=True)) == 1


async def test_enrollment_state_round_trip(store: Store, clock: TestClock) -> None:
    scope = store.for_org(await _org(store))
    contact = await scope.contacts.create(Contact(email="c@x.test"))
    journey = await scope.journeys.create(name="J")
    state = EnrollmentState(
        enrollment_id=scope.enrollments.new_id(),
        step_id="welcome",
        entered_at=clock.now(),
        visit=1,
        wake_at=clock.now() + timedelta(days=3),
        variables={"score": 3, "tags": ["a"]},
    )
    created = await scope.enrollments.create(
        contact_id=contact.id, journey_id=journey.id, version=1, state=state
    )
    assert created.state == state
    done = EnrollmentState(
        enrollment_id=state.enrollment_id,
        status="completed",
        step_id="end",
        visit=2,
        outcome="goal",
    )
    await scope.enrollments.save(done)
    assert (await scope.enrollments.get(state.enrollment_id)).state == done
    assert await scope.enrollments.statuses(contact.id, journey.id) == ["completed"]
    assert await scope.enrollments.active_for_contact(contact.id) == []
    assert await scope.enrollments.step_counts(journey.id) == {(1, "end", "completed"): 1}


async def test_event_idempotency(store: Store) -> None:
    scope = store.for_org(await _org(store))
    first, created = await scope.events.accept(
        type="form.submitted", idempotency_key="k1", payload={"form": "enquiry"}
    )
    again, created_again = await scope.events.accept(
        type="form.submitted", idempotency_key="k1", payload={"form": "other"}
    )
    assert created and not created_again
    assert again == first and again.event.payload == {"form": "enquiry"}
    assert first.status == "pending"
    await scope.events.mark_processed(first.event.id)
    assert (await scope.events.get(first.event.id)).status == "processed"


async def test_action_runs_tasks_log_conflicts_crm(store: Store, clock: TestClock) -> None:
    scope = store.for_org(await _org(store))
    run, created = await scope.action_runs.create(
        executor="email", config={"subject": "Hi"}, idempotency_key="e:1:s:main"
    )
    same, created_again = await scope.action_runs.create(
        executor="email", config={"subject": "Other"}, idempotency_key="e:1:s:main"
    )
    assert created and not created_again and same.id == run.id
    assert run.status == "pending" and run.next_attempt_at == clock.now()
    cancelled = await scope.action_runs.cancel(run.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict, match="cannot be cancelled"):
        await scope.action_runs.cancel(run.id)
    again = await scope.action_runs.reschedule(run.id, max_attempts=3)
    assert again.status == "pending" and again.max_attempts == 3

    task, made = await scope.tasks.create(
        title="Sign contract", assignee="client", required_approvals=2, idempotency_key="run:1"
    )
    dup, made_again = await scope.tasks.create(
        title="dup", assignee="client", idempotency_key="run:1"
    )
    assert made and not made_again and dup.id == task.id
    half = await scope.tasks.approve(task.id, by="partner-1")
    assert half.status == "open" and len(half.approvals) == 1
    done = await scope.tasks.approve(task.id, by="partner-2")
    assert done.status == "completed"
    assert await scope.tasks.get(task.id) == done

    first = await scope.log.append("admin.note", message="hello", data={"x": 1})
    clock.advance(seconds=1)
    second = await scope.log.append("step.entered", step_id="a", enrollment_id="e1")
    entries = await scope.log.list()
    assert [e.id for e in entries] == [second, first]
    assert [e.id for e in await scope.log.list(kind="step.")] == [second]
    assert [e.id for e in await scope.log.list(after=first)] == [second]

    conflict = await scope.conflicts.create(
        kind="graph", field="label", ours="A", theirs="B", target="node-1"
    )
    resolved = await scope.conflicts.resolve(conflict.id, by="user:1", resolution="B")
    assert resolved.status == "resolved" and resolved.theirs == "B"

    conn = await scope.crm_connections.create(
        provider="tave", name="Main", credentials="ENC", schedule_seconds=900
    )
    assert await scope.crm_connections.credentials(conn.id) == "ENC"
    sync = await scope.sync_runs.start(conn.id, trigger="manual")
    clock.advance(seconds=2)
    finished = await scope.sync_runs.finish(
        sync.id, status="succeeded", counts={"created": 3}, cursor_after="c2"
    )
    assert finished.duration_ms == 2000 and finished.counts == {"created": 3}


async def test_tokens_authenticate_and_revoke(store: Store, clock: TestClock) -> None:
    scope = store.for_org(await _org(store))
    token, plaintext = await scope.tokens.create(name="ci", role="editor")
    assert plaintext.startswith("aisle_") and token.prefix in plaintext
    found = await store.system.authenticate(plaintext)
    assert found is not None and found.organization_id == scope.org_id
    assert await store.system.authenticate(plaintext + "x") is None
    await scope.tokens.revoke(token.id)
    assert await store.system.authenticate(plaintext) is None
