"""The collaboration page: who is on which journey and the leases they hold, named;
admins force a lease free (logged); viewers see no control and are refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from aisle.contracts.log import LogKind
from aisle.demo import demo_journey
from aisle.domain.user import User
from aisle.storage.store import OrgScope, Store

from .forms import BASE_URL, csrf_from, sign_in

pytestmark = pytest.mark.asyncio

PAGE = "/dashboard/collaboration"


@pytest.fixture
async def served(app: Litestar) -> AsyncIterator[Litestar]:
    """The app with its lifespan running (collaboration: locks, presence, the stream)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    await started.wait()
    try:
        yield app
    finally:
        stop.set()
        await task


async def _person(scope: OrgScope, app: Litestar, name: str, role: str) -> httpx.AsyncClient:
    user = await scope.users.create(email=f"{name.lower()}@example.com", name=name, role=role)
    _, token = await scope.tokens.create(name=name, role=role, user_id=user.id)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    assert (await sign_in(client, token)).status_code == 303
    return client


async def _htmx(client: httpx.AsyncClient, path: str) -> httpx.Response:
    form = await client.get("/dashboard/journeys")
    return await client.post(
        path, data={}, headers={"X-CSRFToken": csrf_from(form.text), "HX-Request": "true"}
    )


async def test_people_and_leases_are_shown_and_an_admin_releases_one(
    served: Litestar, store: Store
) -> None:
    org = await store.organizations.create(slug="collab", name="Collab Studio")
    scope = store.for_org(org)
    other = store.for_org(await store.organizations.create(slug="other", name="Other"))
    journey = await scope.journeys.create(name="Inquiry follow-up", draft=demo_journey())
    hidden = await other.journeys.create(name="Their journey", draft=demo_journey())
    editor = await _person(scope, served, "Nia", "editor")
    stranger = await _person(other, served, "Zed", "editor")
    admin = await _person(scope, served, "Ann", "admin")
    viewer = await _person(scope, served, "Vic", "viewer")
    step = demo_journey().steps[0]
    base = f"/dashboard/journeys/{journey.id}"
    assert (await _htmx(editor, f"{base}/presence")).status_code == 200
    assert (await _htmx(editor, f"{base}/steps/{step.id}/lock")).status_code == 200
    theirs = f"/dashboard/journeys/{hidden.id}"
    assert (await _htmx(stranger, f"{theirs}/steps/{step.id}/lock")).status_code == 200

    shown = await admin.get(PAGE)
    assert shown.status_code == 200
    html = shown.text
    assert "Inquiry follow-up" in html and "Nia" in html
    assert f"step {step.label or step.id}" in html
    assert "Their journey" not in html and "Zed" not in html
    assert 'aria-current="page">Collaboration' in html

    seen = await viewer.get(PAGE)
    assert "Nia" in seen.text and "/release" not in seen.text
    refused = await viewer.post(
        f"{PAGE}/{journey.id}/release", data={"_csrf_token": csrf_from(seen.text)}
    )
    assert refused.status_code == 403
    assert len(await _leases(store, scope, journey.id)) == 1

    done = await admin.post(
        f"{PAGE}/{journey.id}/release",
        data={"_csrf_token": csrf_from(html), "target_kind": "node", "target_id": step.id},
    )
    assert done.status_code == 303
    assert await _leases(store, scope, journey.id) == []
    logged = await scope.log.list(kind=LogKind.LOCK_FORCE_RELEASED.value)
    assert [e.actor for e in logged] == [f"user:{(await _user(scope, 'Ann')).id}"]
    assert "No leases." in (await admin.get(PAGE)).text
    for client in (editor, stranger, admin, viewer):
        await client.aclose()


async def _leases(store: Store, scope: OrgScope, journey_id: str) -> list[dict[str, object]]:
    rows = await store.db.execute(
        "SELECT id FROM collab_locks WHERE organization_id = {} AND journey_id = {} "
        "AND mode = 'edit'",
        scope.org_id,
        journey_id,
    )
    return list(rows)


async def _user(scope: OrgScope, name: str) -> User:
    return next(u for u in await scope.users.list() if u.name == name)
