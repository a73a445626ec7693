"""Every endpoint, from the route table: another organization's token gets 404 for this
organization's objects and changes nothing; a viewer cannot write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from aisle.storage.store import Store
from tests.api.conftest import Org, Shared
from tests.api.route_table import ROUTES, Spec, url_for
from tests.api.world import World, build_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROUTE_IDS = [f"{m} {p.removeprefix('/api/v1')}" for m, p in ROUTES]


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    paths = app.openapi_schema.paths or {}
    found = set()
    for path, item in paths.items():
        if not path.startswith("/api/v1"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if getattr(item, method, None) is not None:
                found.add((method.upper(), path))
    return found


async def world_of(shared: Shared) -> World:
    """The module's world, built on first use (every request below is refused, so it
    stays as built; the snapshots check exactly that)."""
    if shared.world is None:
        shared.world = await build_world(shared.client, shared.store, shared.org_a)
    world: World = shared.world
    return world


async def test_route_table_covers_every_endpoint(shared: Shared) -> None:
    missing = app_routes(shared.app) - set(ROUTES)
    stale = set(ROUTES) - app_routes(shared.app)
    assert not missing, f"add these endpoints to tests/api/route_table.py: {sorted(missing)}"
    assert not stale, f"these endpoints are gone: {sorted(stale)}"


async def snapshot(client: httpx.AsyncClient, org: Org, world: World) -> dict[str, Any]:
    """Everything of the organization a request could have changed, as its owner sees it."""
    urls = [
        f"/api/v1/journeys/{world.journey_id}",
        f"/api/v1/journeys/{world.journey_id}/flow",
        f"/api/v1/journeys/{world.journey_id}/versions",
        f"/api/v1/journeys/{world.journey_id}/collaborators",
        f"/api/v1/contacts/{world.contact_id}",
        f"/api/v1/enrollments/{world.enrollment_id}",
        f"/api/v1/action-runs/{world.run_id}",
        f"/api/v1/tasks/{world.task_id}",
        f"/api/v1/conflicts/{world.conflict_id}",
        "/api/v1/journeys",
        "/api/v1/contacts",
        "/api/v1/events/" + world.event_id,
        "/api/v1/tokens",
        "/api/v1/users",
        "/api/v1/settings",
        "/api/v1/webhook-endpoints/disabled",
        f"/api/v1/journeys/{world.journey_id}/locks",
        f"/api/v1/journeys/{world.journey_id}/presence",
    ]
    out: dict[str, Any] = {}
    for url in urls:
        response = await client.get(url, headers=org.auth("owner"))
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        if url == "/api/v1/tokens":
            for item in body["items"]:
                item.pop("last_used_at")  # the snapshot's own reads touch it
        out[url] = body
    return out


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    spec: Spec,
    world: World,
    auth: dict[str, str],
) -> httpx.Response:
    body = spec.body(world) if spec.body else None
    raw = body if isinstance(body, str) else None  # a file (a CSV), sent as it is
    return await client.request(
        method,
        url_for(path, world),
        content=raw,
        json=None if raw is not None else body,
        params=spec.query,
        headers=auth | spec.headers,
    )


@pytest.mark.parametrize(("method", "path"), list(ROUTES), ids=ROUTE_IDS)
async def test_other_organization_gets_404_and_changes_nothing(
    shared: Shared, method: str, path: str
) -> None:
    client, org_a, org_b = shared.client, shared.org_a, shared.org_b
    world = await world_of(shared)
    before = await snapshot(client, org_a, world)
    spec = ROUTES[(method, path)]
    response = await call(client, method, path, spec, world, org_b.auth("owner"))
    if spec.operator:
        assert response.status_code == 403, response.text
    elif "{" in path or (method != "GET" and not spec.creates):
        assert response.status_code == spec.other_org_status, response.text
        if spec.other_org_status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    elif (
        spec.creates
        and spec.body
        and any(v in (world.contact_id, world.journey_id) for v in _values(spec.body(world)))
    ):
        assert response.status_code == 404, response.text
    else:
        assert response.status_code < 300, response.text
        text = response.text
        for own_id in world.params().values():
            assert str(own_id) not in text or isinstance(own_id, int), (own_id, text[:300])
    assert await snapshot(client, org_a, world) == before


def _values(body: Any) -> list[Any]:
    if isinstance(body, dict):
        return [x for v in body.values() for x in _values(v)]
    if isinstance(body, list):
        return [x for v in body for x in _values(v)]
    return [body]


WRITES = [(m, p) for m, p in ROUTES if m != "GET" and not ROUTES[(m, p)].viewer_may]


@pytest.mark.parametrize(
    ("method", "path"), WRITES, ids=[f"{m} {p.removeprefix('/api/v1')}" for m, p in WRITES]
)
async def test_viewer_cannot_write(shared: Shared, method: str, path: str) -> None:
    client, org_a = shared.client, shared.org_a
    world = await world_of(shared)
    before = await snapshot(client, org_a, world)
    spec = ROUTES[(method, path)]
    response = await call(client, method, path, spec, world, org_a.auth("viewer"))
    assert response.status_code == spec.viewer_status, response.text
    if spec.viewer_status == 403:
        assert response.json()["required_role"] in ("editor", "admin", "owner", "operator")
    assert await snapshot(client, org_a, world) == before


@pytest.mark.asyncio(loop_scope="function")
async def test_a_collaborator_role_lets_a_viewer_edit_that_journey(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    world = await build_world(client, store, org_a)
    scope = store.for_org(org_a.id)
    _, token = await scope.tokens.create(name="c", role="viewer", user_id=world.collaborator_id)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/journeys/{world.journey_id}/flow/ops"
    revision = (await client.get(f"/api/v1/journeys/{world.journey_id}", headers=auth)).json()[
        "revision"
    ]
    ops = {
        "base_revision": revision,
        "ops": [{"op": "move_node", "id": "c1", "node_id": "done", "position": {"x": 5, "y": 5}}],
    }
    assert (await client.post(url, json=ops, headers=auth)).status_code == 200
    # ...but only that journey, and not beyond its collaborator role
    other = await client.post("/api/v1/journeys", json={"name": "x"}, headers=auth)
    assert other.status_code == 403
    publish = await client.post(
        f"/api/v1/journeys/{world.journey_id}/publish", json={}, headers=auth
    )
    assert publish.status_code == 403


@pytest.mark.asyncio(loop_scope="function")
async def test_admin_cannot_mint_an_owner_token(client: httpx.AsyncClient, org_a: Org) -> None:
    response = await client.post(
        "/api/v1/tokens", json={"name": "x", "role": "owner"}, headers=org_a.auth("admin")
    )
    assert response.status_code == 403
    made = await client.post(
        "/api/v1/tokens", json={"name": "x", "role": "editor"}, headers=org_a.auth("admin")
    )
    assert made.status_code == 201
    token = made.json()["token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "editor"
    revoke = await client.delete(
        f"/api/v1/tokens/{made.json()['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert revoke.status_code == 204
    gone = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    assert gone.headers["www-authenticate"].startswith("Bearer")
