"""An organization's scope cannot read or change another organization's rows."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aisle.domain import Contact, EnrollmentState, Graph
from aisle.storage import Conflict, NotFound, Store
from aisle.storage.scoped import Scoped
from aisle.storage.store import OrgScope
from aisle.storage.tables import ORG_TABLES


async def _seed(store: Store) -> dict[str, Any]:
    """Org A with one row of every kind; returns the ids."""
    org = await store.organizations.create(slug="a", name="A")
    a = store.for_org(org.id)
    contact = await a.contacts.create(Contact(email="a@x.test", external_ids={"tave": "1"}))
    journey = await a.journeys.create(name="J", draft=Graph())
    await a.journeys.publish(journey.id, Graph())
    enrollment = await a.enrollments.create(
        contact_id=contact.id,
        journey_id=journey.id,
        version=1,
        state=EnrollmentState(enrollment_id=a.enrollments.new_id(), step_id="s"),
    )
    event, _ = await a.events.accept(type="x", idempotency_key="k", contact_id=contact.id)
    run, _ = await a.action_runs.create(executor="email", config={}, idempotency_key="r")
    task, _ = await a.tasks.create(title="t", assignee="client", idempotency_key="t")
    user = await a.users.create(email="u@x.test", role="owner")
    token, _ = await a.tokens.create(name="t", role="owner")
    conflict = await a.conflicts.create(kind="graph", field="label")
    conn = await a.crm_connections.create(provider="tave", name="main", credentials="secret")
    sync = await a.sync_runs.start(conn.id)
    log_id = await a.log.append("admin.note", contact_id=contact.id)
    return dict(
        org=org.id,
        contact=contact.id,
        journey=journey.id,
        enrollment=enrollment.id,
        event=event.event.id,
        run=run.id,
        task=task.id,
        user=user.id,
        token=token.id,
        conflict=conflict.id,
        conn=conn.id,
        sync=sync.id,
        log=log_id,
    )


def _denials(b: OrgScope, ids: dict[str, Any]) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """Every way of reaching one of A's rows by id, through B's scope."""
    c, j, e = ids["contact"], ids["journey"], ids["enrollment"]
    return [
        ("contacts.get", lambda: b.contacts.get(c, include_deleted=True)),
        ("contacts.save", lambda: b.contacts.save(Contact(id=c, email="hijack@x.test"))),
        ("contacts.soft_delete", lambda: b.contacts.soft_delete(c)),
        ("contacts.restore", lambda: b.contacts.restore(c)),
        ("journeys.get", lambda: b.journeys.get(j, include_deleted=True)),
        ("journeys.save_draft", lambda: b.journeys.save_draft(j, Graph())),
        ("journeys.update", lambda: b.journeys.update(j, name="hijack")),
        ("journeys.set_status", lambda: b.journeys.set_status(j, "paused")),
        ("journeys.soft_delete", lambda: b.journeys.soft_delete(j)),
        ("journeys.publish", lambda: b.journeys.publish(j, Graph())),
        ("journeys.version", lambda: b.journeys.version(j, 1)),
        ("enrollments.get", lambda: b.enrollments.get(e)),
        ("enrollments.save", lambda: b.enrollments.save(EnrollmentState(enrollment_id=e))),
        ("enrollments.lock", lambda: b.enrollments.lock(e)),
        ("events.get", lambda: b.events.get(ids["event"])),
        ("action_runs.get", lambda: b.action_runs.get(ids["run"])),
        ("action_runs.cancel", lambda: b.action_runs.cancel(ids["run"])),
        ("action_runs.reschedule", lambda: b.action_runs.reschedule(ids["run"], max_attempts=9)),
        ("tasks.get", lambda: b.tasks.get(ids["task"])),
        ("tasks.approve", lambda: b.tasks.approve(ids["task"], by="x")),
        ("tasks.cancel", lambda: b.tasks.cancel(ids["task"])),
        ("users.get", lambda: b.users.get(ids["user"])),
        ("users.set_role", lambda: b.users.set_role(ids["user"], "viewer")),
        ("users.disable", lambda: b.users.disable(ids["user"])),
        ("tokens.get", lambda: b.tokens.get(ids["token"])),
        ("tokens.revoke", lambda: b.tokens.revoke(ids["token"])),
        ("conflicts.get", lambda: b.conflicts.get(ids["conflict"])),
        ("conflicts.resolve", lambda: b.conflicts.resolve(ids["conflict"], by="x")),
        ("crm_connections.get", lambda: b.crm_connections.get(ids["conn"])),
        ("crm_connections.credentials", lambda: b.crm_connections.credentials(ids["conn"])),
        ("crm_connections.update", lambda: b.crm_connections.update(ids["conn"], cursor="x")),
        ("crm_connections.delete", lambda: b.crm_connections.delete(ids["conn"])),
        ("sync_runs.get", lambda: b.sync_runs.get(ids["sync"])),
    ]


async def test_other_organization_cannot_read_or_change_rows(store: Store) -> None:
    ids = await _seed(store)
    org_b = await store.organizations.create(slug="b", name="B")
    b = store.for_org(org_b.id)
    for name, call in _denials(b, ids):
        with pytest.raises((NotFound, Conflict)) as info:
            await call()
        # A Conflict would mean B saw A's row's state: only NotFound is acceptable.
        assert isinstance(info.value, NotFound), f"{name} leaked: {info.value}"

    # Lists and lookups come back empty rather than failing.
    assert await b.contacts.list(include_deleted=True) == []
    assert await b.contacts.by_external_id("tave", "1") is None
    assert await b.journeys.list(include_deleted=True) == []
    assert await b.journeys.live_versions() == []
    assert await b.enrollments.list() == []
    assert await b.enrollments.active_for_contact(ids["contact"]) == []
    assert await b.events.list() == []
    assert await b.events.by_key("k") is None
    assert await b.action_runs.list() == []
    assert await b.tasks.list() == []
    assert await b.log.list() == []
    assert await b.users.list() == []
    assert await b.tokens.list(include_revoked=True) == []
    assert await b.conflicts.list() == []
    assert await b.crm_connections.list() == []
    assert await b.sync_runs.list() == []
    assert await b.enrollments.step_counts(ids["journey"]) == {}

    # The same idempotency keys are free in B: keys are unique per organization.
    _, created = await b.events.accept(type="x", idempotency_key="k")
    assert created

    # And A's rows are untouched.
    a = store.for_org(ids["org"])
    assert (await a.contacts.get(ids["contact"])).email == "a@x.test"
    assert (await a.journeys.get(ids["journey"])).name == "J"
    assert (await a.action_runs.get(ids["run"])).status == "pending"
    assert (await a.tasks.get(ids["task"])).status == "open"
    assert (await a.users.get(ids["user"])).role == "owner"
    assert (await a.tokens.get(ids["token"])).revoked_at is None


def test_every_org_table_has_the_organization_column() -> None:
    for table in ORG_TABLES:
        assert "organization_id" in {c._meta.name for c in table._meta.columns}, table


def test_repositories_take_no_organization_argument() -> None:
    """The scope is fixed at construction: no public method accepts another org id."""
    scope = OrgScope("org", None, None)  # type: ignore[arg-type]
    for repo in vars(scope).values():
        if not isinstance(repo, Scoped):
            continue
        for name, method in inspect.getmembers(repo, inspect.iscoroutinefunction):
            if name.startswith("_"):
                continue
            params = inspect.signature(method).parameters
            assert not {"org", "org_id", "organization_id"} & set(params), (
                f"{type(repo).__name__}.{name} takes an organization"
            )
