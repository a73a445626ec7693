"""Issue 11 items 2 and 3: an operator opens a studio through the API, the studio sets
itself up through its settings API, and a webhook endpoint disabled by 410 can be
re-enabled.

The app here has a credential key (the studio's webhook secret is stored encrypted
with it) and lets executors reach receivers on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from standardwebhooks import Webhook

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.jobs.embedded import drain
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.storage.studio_secrets import StudioSecretTable
from aisle.storage.tables import OrganizationTable
from aisle.testing.http_server import HTTPReceiver, Reply
from tests.api.conftest import Org, open_client
from tests.api.helpers import edge, node
from tests.conftest import TEST_SECRET_KEY

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
ORGS = "/api/v1/organizations"


@pytest.fixture
def app(store: Store, registry: Registry, tmp_path: Path) -> Litestar:
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        database_url=store.db.url,
        secret_key=TEST_SECRET_KEY,
        environ={"AISLE_HTTP_ALLOW": "127.0.0.1/32", "AISLE_HTTP_HOSTS": ""},
    )
    return create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async for c in open_client(app):
        yield c


@pytest.fixture
async def operator(store: Store) -> dict[str, str]:
    _, token = await store.operator_tokens.create(name="ops")
    return {"Authorization": f"Bearer {token}"}


async def open_studio(
    client: httpx.AsyncClient, operator: dict[str, str], slug: str = "bravo"
) -> dict[str, str]:
    """A studio opened through the operator API: its owner's Authorization header."""
    response = await client.post(ORGS, json={"slug": slug, "name": "Bravo Films"}, headers=operator)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['owner_token']['token']}"}


def _fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e.get("field") for e in response.json().get("errors", [])]


# -- organizations (operator) -----------------------------------------------------------


async def test_the_operator_opens_a_studio_whose_owner_token_works(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    response = await client.post(
        ORGS,
        json={"slug": "bravo", "name": "Bravo Films", "timezone": "Europe/Paris"},
        headers=operator,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["slug"], body["timezone"]) == ("bravo", "Europe/Paris")
    assert body["owner_token"]["role"] == "owner"
    owner = {"Authorization": f"Bearer {body['owner_token']['token']}"}
    me = await client.get("/api/v1/me", headers=owner)
    assert me.json() == {**me.json(), "organization_slug": "bravo", "role": "owner"}
    listed = await client.get(ORGS, headers=operator)
    assert [o["slug"] for o in listed.json()["items"]] == ["bravo"]
    assert "token" not in listed.text
    one = await client.get(f"{ORGS}/bravo", headers=operator)
    assert one.json()["id"] == body["id"]
    assert (await client.get(f"{ORGS}/nobody", headers=operator)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"slug": "Bravo Films", "name": "x"}, 400, "slug"),
        ({"slug": "-bravo", "name": "x"}, 400, "slug"),
        ({"slug": "bravo", "name": ""}, 400, "name"),
        ({"slug": "bravo", "name": "x", "timezone": "Mars/Olympus"}, 422, "timezone"),
        ({"slug": "bravo", "name": "x", "plan": "gold"}, 400, "plan"),
    ],
)
async def test_a_bad_organization_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    operator: dict[str, str],
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    response = await client.post(ORGS, json=body, headers=operator)
    assert response.status_code == status, response.text
    assert field in _fields(response)


async def test_a_taken_slug_is_a_conflict_naming_it(
    client: httpx.AsyncClient, operator: dict[str, str], org_a: Org
) -> None:
    response = await client.post(ORGS, json={"slug": "alpha", "name": "x"}, headers=operator)
    assert response.status_code == 409
    assert _fields(response) == ["slug"]


async def test_only_an_operator_token_reaches_the_organizations(
    client: httpx.AsyncClient, operator: dict[str, str], org_a: Org, store: Store
) -> None:
    for method in ("GET", "POST"):
        studio = await client.request(
            method, ORGS, json={"slug": "x", "name": "x"}, headers=org_a.auth("owner")
        )
        assert studio.status_code == 403, studio.text
        assert studio.json()["required_role"] == "operator"
        anonymous = await client.request(method, ORGS, json={"slug": "x", "name": "x"})
        assert anonymous.status_code == 401
    (token,) = await store.operator_tokens.list()
    await store.operator_tokens.revoke(token.id)
    assert (await client.get(ORGS, headers=operator)).status_code == 401
    assert await store.organizations.by_slug("x") is None


# -- studio settings ------------------------------------------------------------------


async def test_a_studio_sets_itself_up_and_its_secret_is_never_echoed(
    client: httpx.AsyncClient, operator: dict[str, str], store: Store
) -> None:
    owner = await open_studio(client, operator)
    change = {
        "timezone": "Europe/Paris",
        "send_window": {"start": "09:00", "end": "19:00", "days": ["mon", "tue", "wed"]},
        "email_templates": {
            "welcome": {
                "subject": "Welcome, {{ couple }}",
                "html": "<p>Hello {{ contact.partners[0].first_name }}</p>",
            }
        },
        "default_sender": "Bravo Films <hello@bravo.example>",
        "webhook_secret": SECRET,
    }
    response = await client.patch("/api/v1/settings", json=change, headers=owner)
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    body = response.json()
    assert body["timezone"] == "Europe/Paris"
    assert body["send_window"]["days"] == ["mon", "tue", "wed"]
    assert body["send_window"]["timezone"] is None  # the studio's
    assert body["email_templates"]["welcome"]["subject"] == "Welcome, {{ couple }}"
    assert body["default_sender"] == "Bravo Films <hello@bravo.example>"
    assert body["webhook_secret_set"] is True
    assert body["webhook_secret_fingerprint"].startswith("sha256:")
    # At rest: encrypted, and nowhere in the studio's settings.
    rows = await StudioSecretTable.select()
    orgs = await OrganizationTable.select()
    assert rows and SECRET not in json.dumps(rows, default=str)
    assert SECRET not in json.dumps(orgs, default=str)
    read = await client.get("/api/v1/settings", headers=owner)
    assert read.json() == body and SECRET not in read.text
    log = await client.get("/api/v1/log", params={"kind": "settings.changed"}, headers=owner)
    assert SECRET not in log.text
    # A new secret has a new fingerprint; null removes it (and the rest stays).
    rotated = await client.patch(
        "/api/v1/settings", json={"webhook_secret": OTHER_SECRET}, headers=owner
    )
    assert rotated.json()["webhook_secret_fingerprint"] != body["webhook_secret_fingerprint"]
    cleared = await client.patch("/api/v1/settings", json={"webhook_secret": None}, headers=owner)
    assert cleared.json()["webhook_secret_set"] is False
    assert cleared.json()["email_templates"] == body["email_templates"]
    org = await store.organizations.by_slug("bravo")
    assert org is not None and "webhook_secret_fingerprint" not in org.settings


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, 422, "timezone"),
        ({"send_window": {"start": "25:00"}}, 400, "send_window.start"),
        ({"send_window": {"days": ["someday"]}}, 400, "send_window.days[0]"),
        ({"send_window": {"timezone": "Nowhere/Else"}}, 422, "send_window.timezone"),
        (
            {"email_templates": {"welcome": {"subject": "Hi {{ couple"}}},
            422,
            "email_templates.welcome.subject",
        ),
        (
            {"email_templates": {"welcome": {"html": "{% for x in y %}"}}},
            422,
            "email_templates.welcome.html",
        ),
        ({"email_templates": {"welcome": {}}}, 422, "email_templates.welcome"),
        ({"email_templates": {"welcome": {"body": "x"}}}, 422, "email_templates.welcome.body"),
        ({"default_sender": "not an address"}, 422, "default_sender"),
        ({"default_sender": "a@b.example\r\nBcc: x@y.example"}, 422, "default_sender"),
        ({"webhook_secret": "whsec_c2hvcnQ="}, 422, "webhook_secret"),
        ({"webhook_secret": "hunter2 hunter2"}, 422, "webhook_secret"),
        ({"country": "XX"}, 422, "country"),
        ({"country": "gb"}, 400, "country"),
        ({"colour": "pink"}, 400, "colour"),
    ],
)
async def test_bad_settings_are_refused_naming_the_field(
    client: httpx.AsyncClient,
    operator: dict[str, str],
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    owner = await open_studio(client, operator)
    before = (await client.get("/api/v1/settings", headers=owner)).json()
    response = await client.patch("/api/v1/settings", json=change, headers=owner)
    assert response.status_code == status, response.text
    assert field in _fields(response), response.text
    if "webhook_secret" in change:
        assert change["webhook_secret"] not in response.text
    assert (await client.get("/api/v1/settings", headers=owner)).json() == before


async def test_owners_write_settings_and_every_role_reads_them(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    for role in ("viewer", "editor", "admin"):
        read = await client.get("/api/v1/settings", headers=org_a.auth(role))
        assert read.status_code == 200
        write = await client.patch(
            "/api/v1/settings", json={"timezone": "Europe/Paris"}, headers=org_a.auth(role)
        )
        assert write.status_code == 403
        assert write.json()["required_role"] == "owner"
    assert (await client.get("/api/v1/settings", headers=org_a.auth())).json()["timezone"] == "UTC"


# -- disabled webhook endpoints -------------------------------------------------------


async def test_an_endpoint_disabled_by_410_is_listed_and_re_enabled_by_an_admin(
    client: httpx.AsyncClient, store: Store, org_a: Org
) -> None:
    url = "https://hooks.example/gone"
    await store.for_org(org_a.id).executor_memory.remember(
        "webhook",
        f"disabled:{url}",
        {"at": "2026-01-05T09:00:00+00:00", "run_id": "r1", "status": 410},
    )
    await store.for_org(org_a.id).executor_memory.remember("email", f"sent:{url}", {"x": 1})
    listed = await client.get("/api/v1/webhook-endpoints/disabled", headers=org_a.auth("admin"))
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert (item["url"], item["status"], item["run_id"]) == (url, 410, "r1")
    path = f"/api/v1/webhook-endpoints/disabled/{item['id']}"
    editor = await client.delete(path, headers=org_a.auth("editor"))
    assert editor.status_code == 403
    assert (
        await client.get("/api/v1/webhook-endpoints/disabled", headers=org_a.auth("editor"))
    ).status_code == 403
    assert (await client.delete(path, headers=org_a.auth("admin"))).status_code == 204
    assert (await client.delete(path, headers=org_a.auth("admin"))).status_code == 404
    again = await client.get("/api/v1/webhook-endpoints/disabled", headers=org_a.auth("admin"))
    assert again.json()["items"] == []
    assert (
        await store.for_org(org_a.id).executor_memory.recall("webhook", f"disabled:{url}") is None
    )
    log = await client.get(
        "/api/v1/log", params={"kind": "webhook.endpoint_enabled"}, headers=org_a.auth()
    )
    assert url in log.text


async def test_the_key_the_executor_writes_is_the_one_the_api_lists() -> None:
    from aisle.services.webhook_endpoints import DISABLED_PREFIX
    from aisle_actions.webhook import endpoint_key

    url = "https://hooks.example/x?y=1"
    assert endpoint_key(url) == DISABLED_PREFIX + url


# -- end to end ------------------------------------------------------------------------


async def test_a_studio_opened_and_configured_through_the_api_signs_its_webhooks(
    client: httpx.AsyncClient,
    app: Litestar,
    operator: dict[str, str],
    clock: TestClock,
) -> None:
    # Receivers check webhook-timestamp against their own clock.
    clock.set(datetime.now(UTC).replace(microsecond=0))
    owner = await open_studio(client, operator)
    patched = await client.patch("/api/v1/settings", json={"webhook_secret": SECRET}, headers=owner)
    assert patched.status_code == 200
    with HTTPReceiver() as receiver:
        receiver.reply(Reply(410), times=1)
        hook = node(
            "hook",
            "webhook",
            config={"url": f"{receiver.url}/hooks", "headers": {"X-Studio": "bravo"}},
        )
        flow = {"nodes": [hook, node("done", "end", 0, 100)], "edges": [edge("e1", "hook", "done")]}
        journey = await client.post(
            "/api/v1/journeys",
            json={
                "name": "Booked",
                "flow": flow,
                "settings": {"start_step": "hook", "reenrollment": "always"},
            },
            headers=owner,
        )
        assert journey.status_code == 201, journey.text
        journey_id = journey.json()["id"]
        published = await client.post(
            f"/api/v1/journeys/{journey_id}/publish", json={}, headers=owner
        )
        assert published.status_code in (200, 201), published.text
        contact = await client.post(
            "/api/v1/contacts", json={"email": "ada@example.com"}, headers=owner
        )
        contact_id = contact.json()["id"]
        runtime = app.state.aisle.require_runtime()

        async def run_once() -> None:
            enrolled = await client.post(
                "/api/v1/enrollments",
                json={"contact_id": contact_id, "journey_id": journey_id},
                headers=owner,
            )
            assert enrolled.status_code == 201, enrolled.text
            await drain(runtime)

        await run_once()  # the receiver answers 410 Gone: the endpoint is disabled
        listed = await client.get("/api/v1/webhook-endpoints/disabled", headers=owner)
        (endpoint,) = listed.json()["items"]
        assert endpoint["url"] == f"{receiver.url}/hooks"
        removed = await client.delete(
            f"/api/v1/webhook-endpoints/disabled/{endpoint['id']}", headers=owner
        )
        assert removed.status_code == 204
        await run_once()  # enabled again: delivered, signed with the studio's secret
        assert len(receiver.requests) == 2
        delivered = receiver.requests[-1]
        assert delivered.headers["x-studio"] == "bravo"
        Webhook(SECRET).verify(delivered.body, dict(delivered.headers))


async def test_publishing_a_webhook_step_waits_for_a_signing_secret(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    """Issue 11 item 1 for webhooks: no studio secret and no AISLE_WEBHOOK_SECRET is a
    publish-time problem naming the step and ``config.secret``; the studio setting its
    own secret through the settings API is what lets it publish."""
    owner = await open_studio(client, operator)
    hook = node("hook", "webhook", config={"url": "https://hooks.example/aisle"})
    flow = {"nodes": [hook, node("done", "end", 0, 100)], "edges": [edge("e1", "hook", "done")]}
    made = await client.post(
        "/api/v1/journeys",
        json={"name": "Hook", "flow": flow, "settings": {"start_step": "hook"}},
        headers=owner,
    )
    publish = f"/api/v1/journeys/{made.json()['id']}/publish"
    refused = await client.post(publish, json={}, headers=owner)
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert {(e.get("node_id"), e.get("field")) for e in errors} == {("hook", "config.secret")}
    await client.patch("/api/v1/settings", json={"webhook_secret": SECRET}, headers=owner)
    published = await client.post(publish, json={}, headers=owner)
    assert published.status_code in (200, 201), published.text
