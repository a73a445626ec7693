"""Query parameters an endpoint does not take are refused with a 400 naming them (a
mistyped filter must not return everything), and action runs filter by journey (issue
11, item 9)."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Shared
from tests.api.helpers import small_flow
from tests.api.route_table import ROUTES, url_for
from tests.api.test_tenancy_and_roles import ROUTE_IDS, world_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(("method", "path"), list(ROUTES), ids=ROUTE_IDS)
async def test_every_endpoint_refuses_an_unknown_query_parameter(
    shared: Shared, method: str, path: str
) -> None:
    world = await world_of(shared)
    spec = ROUTES[(method, path)]
    response = await shared.client.request(
        method,
        url_for(path, world),
        json=spec.body(world) if spec.body else None,
        params={**spec.query, "jouney_id": world.journey_id},
        headers=shared.org_a.auth("owner") | spec.headers,
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"] == [
        {"message": "unknown query parameter", "field": "jouney_id", "code": "unknown_parameter"}
    ]
    assert "'jouney_id'" in problem["detail"]


async def test_the_problem_lists_what_the_endpoint_takes(shared: Shared) -> None:
    response = await shared.client.get(
        "/api/v1/action-runs",
        params={"statuss": "dead", "limit": 5, "x": "1"},
        headers=shared.org_a.auth("viewer"),
    )
    problem = response.json()
    assert response.status_code == 400
    assert [e["field"] for e in problem["errors"]] == ["statuss", "x"]
    for name in ("status", "limit", "journey_id", "enrollment_id"):
        assert name in problem["detail"]


async def test_action_runs_filter_by_journey(shared: Shared) -> None:
    client, headers = shared.client, shared.org_a.auth("owner")
    world = await world_of(shared)

    async def runs(**params: str) -> list[str]:
        response = await client.get("/api/v1/action-runs", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [r["journey_id"] for r in response.json()["items"]]

    flow = small_flow()
    created = await client.post(
        "/api/v1/journeys",
        json={"name": "Second", "flow": flow, "settings": {"start_step": "brochure"}},
        headers=headers,
    )
    other = created.json()["id"]
    published = await client.post(f"/api/v1/journeys/{other}/publish", json={}, headers=headers)
    assert published.status_code == 201, published.text
    enrolled = await client.post(
        "/api/v1/enrollments",
        json={"contact_id": world.contact_id, "journey_id": other},
        headers=headers,
    )
    assert enrolled.status_code == 201, enrolled.text

    assert set(await runs()) == {world.journey_id, other}
    assert set(await runs(journey_id=world.journey_id)) == {world.journey_id}
    assert await runs(journey_id=other) == [other]
    assert await runs(journey_id="no-such-journey") == []


async def test_a_handler_reading_no_query_refuses_any(shared: Shared) -> None:
    response: httpx.Response = await shared.client.get(
        "/api/v1/me", params={"verbose": "1"}, headers=shared.org_a.auth("viewer")
    )
    assert response.status_code == 400
    assert "takes: none" in response.json()["detail"]
