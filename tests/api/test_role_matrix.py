"""The role matrix: viewer / editor / admin / owner by every write route of the route
table. Each route states the least role it needs; every role below it is refused with
a 403 naming that role and changes nothing, and that role itself is let through.

The table below is the contract, written down once: a route that needs another role
fails here, and a write route added to ``tests/api/route_table.py`` without a line
here fails :func:`test_every_write_route_states_the_role_it_needs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from aisle.domain.user import ROLES
from aisle.storage.store import Store
from tests.api.conftest import Org, Shared
from tests.api.route_table import ROUTES
from tests.api.test_tenancy_and_roles import call, snapshot, world_of
from tests.api.world import build_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

P = "/api/v1"


@dataclass(frozen=True)
class Need:
    role: str
    """The least organization role that may make the request on the world's objects."""
    named: str | None = None
    """The role a refusal names, when it is not ``role`` (see the route's line)."""


NEEDS: dict[tuple[str, str], Need] = {
    ("POST", f"{P}/journeys"): Need("editor"),
    ("PATCH", f"{P}/journeys/{{journey_id}}"): Need("editor"),
    ("DELETE", f"{P}/journeys/{{journey_id}}"): Need("admin"),
    ("POST", f"{P}/journeys/import"): Need("admin"),
    ("PUT", f"{P}/journeys/{{journey_id}}/flow"): Need("editor"),
    ("POST", f"{P}/journeys/{{journey_id}}/flow/ops"): Need("editor"),
    ("POST", f"{P}/conflicts/{{conflict_id}}/resolve"): Need("editor"),
    ("POST", f"{P}/journeys/{{journey_id}}/validate"): Need("viewer"),
    ("POST", f"{P}/journeys/{{journey_id}}/publish"): Need("admin"),
    ("POST", f"{P}/journeys/{{journey_id}}/rollback"): Need("admin"),
    ("POST", f"{P}/journeys/{{journey_id}}/migrate"): Need("admin"),
    ("POST", f"{P}/journeys/{{journey_id}}/simulate"): Need("viewer"),
    ("POST", f"{P}/journeys/{{journey_id}}/steps/{{step_id}}/preview"): Need("viewer"),
    ("POST", f"{P}/action-executors/{{executor}}/preview"): Need("viewer"),
    ("PUT", f"{P}/journeys/{{journey_id}}/collaborators/{{user_id}}"): Need("admin"),
    ("DELETE", f"{P}/journeys/{{journey_id}}/collaborators/{{user_id}}"): Need("admin"),
    ("POST", f"{P}/contacts"): Need("editor"),
    ("POST", f"{P}/contacts/batch"): Need("editor"),
    ("PATCH", f"{P}/contacts/{{contact_id}}"): Need("editor"),
    # Deleting a couple and their history is not an editor's act.
    ("DELETE", f"{P}/contacts/{{contact_id}}"): Need("admin"),
    ("POST", f"{P}/events"): Need("editor"),
    ("POST", f"{P}/events/batch"): Need("editor"),
    ("POST", f"{P}/enrollments"): Need("editor"),
    ("POST", f"{P}/enrollments/{{enrollment_id}}/exit"): Need("editor"),
    ("POST", f"{P}/enrollments/{{enrollment_id}}/trigger"): Need("editor"),
    ("POST", f"{P}/tasks/{{task_id}}/complete"): Need("editor"),
    ("POST", f"{P}/action-runs/{{run_id}}/retry"): Need("admin"),
    ("POST", f"{P}/action-runs/{{run_id}}/cancel"): Need("admin"),
    ("DELETE", f"{P}/webhook-endpoints/disabled/{{endpoint_id}}"): Need("admin"),
    ("POST", f"{P}/crm/connections"): Need("admin"),
    ("PATCH", f"{P}/crm/connections/{{crm_connection_id}}"): Need("admin"),
    ("DELETE", f"{P}/crm/connections/{{crm_connection_id}}"): Need("admin"),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/test"): Need("admin"),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/sync"): Need("editor"),
    ("POST", f"{P}/crm/runs/{{sync_run_id}}/cancel"): Need("editor"),
    ("POST", f"{P}/crm/held/{{held_id}}/confirm"): Need("editor"),
    ("POST", f"{P}/crm/held/{{held_id}}/reject"): Need("editor"),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/csv/{{csv_format}}/preview"): Need(
        "editor"
    ),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/csv/{{csv_format}}/import"): Need(
        "editor"
    ),
    ("PATCH", f"{P}/settings"): Need("owner"),
    ("PUT", f"{P}/settings/sources/{{source}}"): Need("owner"),
    ("DELETE", f"{P}/settings/sources/{{source}}"): Need("owner"),
    # Inbound URLs take no token at all: no role is needed, the signature is.
    ("POST", f"{P}/inbound/sources/{{source}}/{{organization_id}}"): Need("viewer"),
    ("POST", f"{P}/inbound/crm/{{connection_id}}"): Need("viewer"),
    ("POST", f"{P}/organizations"): Need("operator"),
    ("POST", f"{P}/tokens"): Need("admin"),
    # The world's token is the editor's own, which its holder may revoke; revoking
    # anyone else's token is an admin's act, and that is what a viewer is told.
    ("DELETE", f"{P}/tokens/{{token_id}}"): Need("editor", named="admin"),
    ("POST", f"{P}/users"): Need("admin"),
    ("PATCH", f"{P}/users/{{user_id}}"): Need("admin"),
    ("DELETE", f"{P}/users/{{user_id}}"): Need("admin"),
    ("POST", f"{P}/journeys/{{journey_id}}/locks"): Need("editor"),
    ("POST", f"{P}/journeys/{{journey_id}}/locks/renew"): Need("editor"),
    ("POST", f"{P}/journeys/{{journey_id}}/locks/release"): Need("viewer"),
    ("POST", f"{P}/journeys/{{journey_id}}/locks/force-release"): Need("admin"),
    ("POST", f"{P}/journeys/{{journey_id}}/presence"): Need("editor"),
}

SESSION_OWN = {
    ("POST", f"{P}/journeys/{{journey_id}}/presence/{{session_id}}/heartbeat"),
    ("DELETE", f"{P}/journeys/{{journey_id}}/presence/{{session_id}}"),
}
"""Routes acting on one presence session: they answer its own user only (404 to anyone
else, whatever their role), so they are not a question of roles (tests/collab)."""

WRITES = sorted((m, p) for m, p in ROUTES if m != "GET" and (m, p) not in SESSION_OWN)


def _id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1].removeprefix(P)}"


def _below(need: Need) -> list[str]:
    if need.role == "operator":
        return list(ROLES)  # no studio token may, whatever its role
    return list(ROLES[: ROLES.index(need.role)])


REFUSALS = [(route, role) for route in WRITES if route in NEEDS for role in _below(NEEDS[route])]


async def test_every_write_route_states_the_role_it_needs(shared: Shared) -> None:
    missing = sorted(_id(r) for r in WRITES if r not in NEEDS)
    stale = sorted(_id(r) for r in NEEDS if r not in WRITES)
    assert not missing, f"say which role these write routes need, in NEEDS: {missing}"
    assert not stale, f"these routes are no longer write routes of the table: {stale}"
    assert ROLES == ("viewer", "editor", "admin", "owner"), "the matrix assumes these roles"


@pytest.mark.parametrize(("route", "role"), REFUSALS, ids=[f"{_id(r)} as {g}" for r, g in REFUSALS])
async def test_a_role_below_the_need_is_refused_and_changes_nothing(
    shared: Shared, route: tuple[str, str], role: str
) -> None:
    client, org = shared.client, shared.org_a
    world = await world_of(shared)
    before = await snapshot(client, org, world)
    method, path = route
    need = NEEDS[route]
    response = await call(client, method, path, ROUTES[route], world, org.auth(role))
    assert response.status_code == 403, (role, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["required_role"] == (need.named or need.role), response.text
    assert await snapshot(client, org, world) == before


LETS_THROUGH = [r for r in WRITES if r in NEEDS and NEEDS[r].role != "operator"]


# Roles are checked above storage; one database is enough to let each request through.
@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("route", LETS_THROUGH, ids=[_id(r) for r in LETS_THROUGH])
async def test_the_role_it_needs_is_let_through(
    client: httpx.AsyncClient, store: Store, org_a: Org, route: tuple[str, str]
) -> None:
    # A world of its own: the request may change it.
    world = await build_world(client, store, org_a)
    method, path = route
    role = NEEDS[route].role
    response = await call(client, method, path, ROUTES[route], world, org_a.auth(role))
    assert response.status_code not in (401, 403), (role, response.text)
    assert response.status_code < 500, response.text


@pytest.mark.asyncio(loop_scope="function")
async def test_a_disabled_user_keeps_no_token(client: httpx.AsyncClient, org_a: Org) -> None:
    editor = org_a.auth("editor")
    assert (await client.get(f"{P}/me", headers=editor)).status_code == 200
    disabled = await client.delete(f"{P}/users/{org_a.users['editor']}", headers=org_a.auth())
    assert disabled.status_code == 204, disabled.text
    for method, url in (("GET", f"{P}/me"), ("POST", f"{P}/contacts")):
        response = await client.request(
            method, url, json={"email": "x@example.com"}, headers=editor
        )
        assert response.status_code == 401, (method, url, response.text)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_demoted_user_writes_no_more(client: httpx.AsyncClient, org_a: Org) -> None:
    editor = org_a.auth("editor")
    demoted = await client.patch(
        f"{P}/users/{org_a.users['editor']}", json={"role": "viewer"}, headers=org_a.auth()
    )
    assert demoted.status_code == 200, demoted.text
    refused = await client.post(f"{P}/contacts", json={"email": "x@example.com"}, headers=editor)
    assert refused.status_code == 403, refused.text
    assert refused.json()["required_role"] == "editor"
