"""Issue 11 item 4: the webhook step can be made to work by a studio.

The node offers what the executor accepts (headers, include_contact, timeout), no
credential is kept in clear in a journey, and runs sign with the studio's own secret,
stored encrypted and decrypted by the worker's services. Publishing asks the executor's
``check`` whether any secret exists.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from standardwebhooks import Webhook

from actions.conftest import MakeContext, planned
from aisle import CheckContext, PermanentError
from aisle.contracts.registry import Registry
from aisle.domain import Edge, Graph, JourneySettings, Step
from aisle.domain.action_run import ActionRun
from aisle.engine.validation import validate
from aisle.jobs.deps import JobDeps
from aisle.jobs.services import RunServices
from aisle.runtime.service import Runtime
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.store import Store
from aisle.storage.tables import OrganizationTable
from aisle.testing.http_server import HTTPReceiver
from aisle.testing.services import RecordingServices
from aisle_actions import webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _graph(config: dict[str, Any]) -> Graph:
    return Graph(
        steps=(Step(id="hook", type="webhook", config=config), Step(id="done", type="end")),
        edges=(Edge(id="e1", source="hook", target="done", trigger="immediate"),),
        settings=JourneySettings(start_step="hook"),
    )


def _config_issues(registry: Registry, config: dict[str, Any]) -> list[Any]:
    return [i for i in validate(_graph(config), registry) if i.code == "invalid_config"]


async def test_the_node_offers_what_the_executor_accepts(
    registry: Registry,
    http_receiver: HTTPReceiver,
    make_context: MakeContext,
    action_services: RecordingServices,
    contact: dict[str, Any],
) -> None:
    node = {
        "url": f"{http_receiver.url}/hook",
        "headers": {"X-Studio": "golden-hour"},
        "include_contact": False,
        "timeout_seconds": 5,
    }
    assert _config_issues(registry, node) == []
    action_services.studio_secrets["webhook_secret"] = SECRET
    await webhook.execute(make_context(planned("webhook", node, contact)))
    (request,) = http_receiver.requests
    assert request.headers["x-studio"] == "golden-hour"
    assert "contact" not in json.loads(request.body)["data"]
    Webhook(SECRET).verify(request.body, dict(request.headers))


@pytest.mark.parametrize(
    "header", ["Authorization", "X-Api-Key", "Cookie", "X-Auth-Token", "webhook-signature"]
)
def test_credential_and_signing_headers_are_refused_on_the_node(
    registry: Registry, header: str
) -> None:
    (issue,) = _config_issues(registry, {"url": "https://hooks.example", "headers": {header: "x"}})
    assert issue.node_id == "hook"
    assert issue.field == "headers"
    assert header in issue.message


def test_a_step_cannot_carry_its_own_secret(registry: Registry) -> None:
    (issue,) = _config_issues(registry, {"url": "https://hooks.example", "secret": SECRET})
    assert issue.field == "secret"
    with pytest.raises(msgspec.ValidationError, match="secret"):
        msgspec.convert({"url": "https://hooks.example", "secret": SECRET}, webhook.WebhookConfig)


async def test_a_run_signs_with_the_studio_secret_stored_encrypted(
    store: Store, settings: Settings
) -> None:
    org = await store.organizations.create(slug="studio", name="Studio")
    cipher = CredentialCipher.from_settings(settings)
    await store.for_org(org).secrets.put("webhook_secret", SECRET, cipher)
    stored = await store.for_org(org).secrets.ciphertext("webhook_secret")
    assert stored is not None and SECRET not in stored
    settings_row = await OrganizationTable.select(OrganizationTable.settings).first()
    assert SECRET not in json.dumps(settings_row)
    # What executors (and publish-time checks) see of the studio: set, not the secret.
    studio = (await store.organizations.get(org.id)).settings
    assert studio["webhook_secret_fingerprint"].startswith("sha256:")
    assert await store.for_org(org).secrets.reveal("webhook_secret", cipher) == SECRET
    await store.for_org(org).secrets.put("webhook_secret", None, cipher)
    assert await store.for_org(org).secrets.reveal("webhook_secret", cipher) is None
    assert "webhook_secret_fingerprint" not in (await store.organizations.get(org.id)).settings


async def test_a_secret_the_key_cannot_decrypt_kills_the_run_naming_it(
    store: Store, settings: Settings, registry: Registry
) -> None:
    org = await store.organizations.create(slug="studio", name="Studio")
    other_key = CredentialCipher("an old key the operator has rotated out")
    await store.for_org(org).secrets.put("webhook_secret", SECRET, other_key)
    runtime = Runtime(store, registry, settings)
    run = ActionRun(
        id="r", organization_id=org.id, executor="webhook", config={}, idempotency_key="k"
    )
    with pytest.raises(PermanentError, match="webhook_secret is unusable"):
        await RunServices(JobDeps.of(runtime), store.for_org(org), run, None).studio_secret(
            "webhook_secret"
        )


@pytest.mark.parametrize(
    ("context", "problems"),
    [
        (CheckContext(), ["secret"]),
        (CheckContext(studio={"webhook_secret_fingerprint": True}), []),
        # The secret itself is never a studio setting (runs read the encrypted store),
        # so a setting of that name must not pass for one.
        (CheckContext(studio={"webhook_secret": True}), ["secret"]),
        (CheckContext(environ={"AISLE_WEBHOOK_SECRET": SECRET}), []),
    ],
)
def test_publishing_is_told_when_no_secret_exists(
    context: CheckContext, problems: list[str]
) -> None:
    assert webhook.EXECUTOR.check is not None
    found = webhook.EXECUTOR.check({"url": "https://hooks.example"}, context)
    assert [p.field for p in found] == problems
    assert all("AISLE_WEBHOOK_SECRET" in p.message for p in found)
