"""Bodies no handler should see: nested 1,000 levels deep, not UTF-8, or holding a NUL
character. Each is a 400 problem naming the field (where there is one), the same on
SQLite and PostgreSQL, and nothing is stored (issue 10, item 5)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aisle.api.bodies import MAX_JSON_DEPTH
from tests.api.conftest import Org
from tests.api.helpers import small_flow
from tests.api.test_problems import is_problem

JSON = {"content-type": "application/json"}


async def _journey(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/journeys", json={"name": "Bodies", "flow": small_flow()}, headers=org.auth()
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _contact(client: httpx.AsyncClient, org: Org) -> str:
    created = await client.post("/api/v1/contacts", json={}, headers=org.auth())
    assert created.status_code == 201, created.text
    contact_id: str = created.json()["id"]
    return contact_id


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


async def _send(
    client: httpx.AsyncClient,
    org: Org,
    target: str,
    field_json: bytes,
) -> tuple[httpx.Response, str]:
    """Send ``field_json`` (raw JSON bytes) in the spot of ``target`` that takes free
    JSON; the response, and the field path that spot has."""
    if target == "events":
        contact = await _contact(client, org)
        body = b'{"type": "form.submitted", "contact_id": "%s", "data": {"x": %s}}' % (
            contact.encode(),
            field_json,
        )
        sent = await client.post("/api/v1/events", content=body, headers=org.auth() | JSON)
        return sent, "data.x"
    if target == "contacts":
        body = b'{"custom": {"x": %s}}' % field_json
        return await client.post(
            "/api/v1/contacts", content=body, headers=org.auth() | JSON
        ), "custom.x"
    if target == "journey-create":
        whole = json.dumps(small_flow()).encode()
        body = b'{"name": "J", "flow": %s, "settings": {"x": %s}}' % (whole, field_json)
        return await client.post(
            "/api/v1/journeys", content=body, headers=org.auth() | JSON
        ), "settings.x"
    assert target == "flow"
    journey = await _journey(client, org)
    flow = small_flow()
    flow["nodes"][0]["data"]["label"] = "@@"
    body = json.dumps(flow).encode().replace(b'"@@"', field_json)
    return await client.put(
        f"/api/v1/journeys/{journey['id']}/flow",
        content=body,
        headers=org.auth() | JSON | {"If-Match": journey["etag"]},
    ), "nodes[0].data.label"


TARGETS = ["events", "contacts", "journey-create", "flow"]


@pytest.mark.parametrize("target", TARGETS)
async def test_a_nul_character_is_a_400_naming_the_field(
    client: httpx.AsyncClient, org_a: Org, target: str
) -> None:
    response, field = await _send(client, org_a, target, b'"before\\u0000after"')
    body = is_problem(response, 400)
    assert body["errors"][0]["field"] == field
    assert "NUL" in body["detail"]


@pytest.mark.parametrize("target", TARGETS)
async def test_json_nested_1000_levels_is_a_400(
    client: httpx.AsyncClient, org_a: Org, target: str
) -> None:
    response, _ = await _send(client, org_a, target, _nested(1000))
    assert "nested" in is_problem(response, 400)["detail"]


async def test_nesting_past_the_limit_names_where(client: httpx.AsyncClient, org_a: Org) -> None:
    response, _ = await _send(client, org_a, "contacts", _nested(MAX_JSON_DEPTH))
    body = is_problem(response, 400)
    assert body["errors"][0]["field"].startswith("custom.x[0][0]")
    # one level less is fine: the limit is where it says
    ok, _ = await _send(client, org_a, "contacts", _nested(MAX_JSON_DEPTH - 2))
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize("target", TARGETS)
async def test_invalid_utf8_is_a_400(client: httpx.AsyncClient, org_a: Org, target: str) -> None:
    response, _ = await _send(client, org_a, target, b'"caf\xff"')
    assert "UTF-8" in is_problem(response, 400)["detail"]


async def test_a_nul_in_a_key_or_the_url_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    key = await client.post(
        "/api/v1/contacts",
        content=b'{"custom": {"a\\u0000b": 1}}',
        headers=org_a.auth() | JSON,
    )
    assert is_problem(key, 400)["errors"][0]["field"] == "custom.a\\u0000b"
    query = await client.get("/api/v1/contacts", params={"q": "a\x00b"}, headers=org_a.auth())
    is_problem(query, 400)
    path = await client.get("/api/v1/contacts/a%00b", headers=org_a.auth())
    is_problem(path, 400)
    listed = await client.get("/api/v1/contacts", headers=org_a.auth())
    assert listed.json()["items"] == []
    # the server carries on
    assert (await client.post("/api/v1/contacts", json={}, headers=org_a.auth())).status_code == 201
