"""Publishing refuses a journey whose actions cannot run here (issue 11, item 1).

Each action executor's ``check`` is asked about every action a step would request;
the refusal is the validation-issue problem the canvas highlights, naming the step and
the field. On e5e9255 every journey below was published (201) and its runs went dead.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from aisle import CheckContext, ConfigProblem
from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import Org, open_client
from tests.api.helpers import edge, node

REDIS = "redis://127.0.0.1:6379/0"


def flow(*steps: dict[str, Any]) -> dict[str, Any]:
    nodes = [*steps, node("done", "end", 900, 0, label="Done")]
    ids = [n["id"] for n in nodes]
    edges = [edge(f"e{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(ids))]
    return {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


EMAIL = node(
    "brochure",
    "email",
    label="Send brochure",
    config={"to": "couple", "subject": "Our brochure", "text": "Hello {{ couple }}"},
)
SMS = node("nudge", "sms", 300, 0, label="Text them", config={"body": "Hi {{ couple }}!"})
WEBHOOK = node(
    "notify", "webhook", 600, 0, label="Tell the CRM", config={"url": "https://crm.example/hook"}
)


async def serve(
    store: Store, registry: Registry, tmp_path: Path, environ: Mapping[str, str], redis: bool
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        database_url=store.db.url,
        secret_key="test-key",
        redis_url=REDIS if redis else None,
        environ=dict(environ),
    )
    app: Litestar = create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))
    async for client in open_client(app):
        yield client


async def publish(
    client: httpx.AsyncClient, org: Org, steps: list[dict[str, Any]]
) -> httpx.Response:
    created = await client.post(
        "/api/v1/journeys",
        headers=org.auth(),
        json={"name": "Checked", "flow": flow(*steps), "settings": {"start_step": "brochure"}},
    )
    assert created.status_code == 201, created.text
    return await client.post(
        f"/api/v1/journeys/{created.json()['id']}/publish", headers=org.auth(), json={}
    )


def located(response: httpx.Response) -> set[tuple[str | None, str | None, str | None]]:
    return {(e.get("node_id"), e.get("field"), e.get("code")) for e in response.json()["errors"]}


async def test_production_without_smtp_or_sms_provider_refuses_naming_each_step(
    store: Store, registry: Registry, tmp_path: Path, org_a: Org
) -> None:
    async for client in serve(store, registry, tmp_path, {}, redis=True):
        response = await publish(client, org_a, [EMAIL, SMS])
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"].endswith("/invalid-journey")
        assert {
            ("brochure", None, "no_smtp_host"),
            ("brochure", None, "no_sender"),
            ("nudge", None, "no_sms_provider"),
            ("nudge", None, "no_sender"),
        } <= located(response)
        smtp = next(e for e in body["errors"] if e["code"] == "no_smtp_host")
        assert "AISLE_SMTP_HOST" in smtp["message"]
        # The canvas reads the same issues from /validate before publishing.
        journey_id = (await client.get("/api/v1/journeys", headers=org_a.auth())).json()["items"][
            0
        ]["id"]
        checked = await client.post(f"/api/v1/journeys/{journey_id}/validate", headers=org_a.auth())
        assert checked.json()["valid"] is False
        assert "no_smtp_host" in {i["code"] for i in checked.json()["issues"]}
        versions = await client.get(f"/api/v1/journeys/{journey_id}/versions", headers=org_a.auth())
        assert versions.json()["items"] == []


async def test_production_with_providers_configured_publishes(
    store: Store, registry: Registry, tmp_path: Path, org_a: Org
) -> None:
    environ = {
        "AISLE_SMTP_HOST": "smtp.studio.example",
        "AISLE_SMTP_FROM": "hello@studio.example",
        "AISLE_SMS_ACCOUNT_SID": "AC1",
        "AISLE_SMS_AUTH_TOKEN": "token",
        "AISLE_SMS_FROM": "+447400123456",
    }
    async for client in serve(store, registry, tmp_path, environ, redis=True):
        response = await publish(client, org_a, [EMAIL, SMS])
        assert response.status_code == 201, response.text


async def test_production_may_opt_into_capture(
    store: Store, registry: Registry, tmp_path: Path, org_a: Org
) -> None:
    environ = {"AISLE_CAPTURE_MESSAGES": "on"}
    async for client in serve(store, registry, tmp_path, environ, redis=True):
        response = await publish(client, org_a, [EMAIL, SMS])
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("environ", "codes"),
    [
        ({}, set()),  # embedded: captured, nothing to fix
        ({"AISLE_CAPTURE_MESSAGES": "off"}, {"no_smtp_host", "no_sms_provider"}),
        ({"AISLE_CAPTURE_MESSAGES": "sometimes"}, {"invalid_setting"}),
    ],
)
async def test_embedded_mode_captures_unless_told_not_to(
    store: Store,
    registry: Registry,
    tmp_path: Path,
    org_a: Org,
    environ: dict[str, str],
    codes: set[str],
) -> None:
    async for client in serve(store, registry, tmp_path, environ, redis=False):
        response = await publish(client, org_a, [EMAIL, SMS])
        if not codes:
            assert response.status_code == 201, response.text
        else:
            assert response.status_code == 422, response.text
            assert codes <= {code for _, _, code in located(response)}


async def test_a_plugin_check_names_the_field_and_a_broken_check_does_not_block(
    store: Store, registry: Registry, tmp_path: Path, org_a: Org
) -> None:
    seen: list[CheckContext] = []

    def needs_https(config: Any, context: CheckContext) -> list[ConfigProblem]:
        seen.append(context)
        if config.url.startswith("https://crm.example"):
            return [ConfigProblem(message="crm.example is retired: use crm2", field="url")]
        return []

    def broken(config: Any, context: CheckContext) -> list[ConfigProblem]:
        raise RuntimeError("a bug in the plugin")

    webhook = registry.action_executors["webhook"]
    for check, expected in ((needs_https, 422), (broken, 201)):
        patched = dataclasses.replace(
            registry,
            action_executors={
                **registry.action_executors,
                "webhook": dataclasses.replace(webhook, check=check),
            },
        )
        async for client in serve(store, patched, tmp_path, {}, redis=False):
            response = await publish(client, org_a, [EMAIL, WEBHOOK])
            assert response.status_code == expected, response.text
            if expected == 422:
                assert located(response) == {("notify", "config.url", "cannot_run")}
                assert "crm2" in response.json()["errors"][0]["message"]
    context = seen[0]
    assert context.embedded and not context.production
    assert context.studio["slug"] == "alpha"


async def test_studio_secrets_reach_checks_only_as_set_or_not(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    from aisle.services.readiness import check_context

    org = await store.organizations.create(
        slug="secretive",
        name="Secretive",
        settings={
            "studio_name": "S",
            "webhook_secret_fingerprint": "ab12",
            "crm": {"api_token": "tok-123", "password": "", "region": "eu"},
        },
    )
    context = check_context(Settings(data_dir=str(tmp_path), environ={"AISLE_SMTP_HOST": "h"}), org)
    assert context.studio["crm"] == {"api_token": True, "password": False, "region": "eu"}
    assert context.studio["webhook_secret_fingerprint"] is True
    assert "tok-123" not in repr(context)
    assert context.setting("smtp_host") == "h"
