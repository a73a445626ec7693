"""Pin: CRM credentials reach a provider decrypted by the real run services.

The crm_update executor's own tests hand it a ``RecordingServices`` with plain
credentials; here the connection is stored encrypted, as a studio's is, and the run goes
through the worker's path (``drain`` → ``execute_run`` → ``RunServices.crm_connection``),
so a services layer that stopped decrypting, decrypted with the wrong key or handed the
ciphertext on would fail. The key rotation path is pinned too.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import msgspec
import pytest

from aisle import CRMProvider, Page, hookimpl
from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.domain.contact import Contact
from aisle.jobs import drain
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.store import Store
from aisle.testing.fake_crm import FakeCRMServer
from aisle_actions import crm_update

API_KEY = "crm-key-only-the-provider-sees"
OLD_KEY = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleS0="


class Credentials(msgspec.Struct):
    api_key: str
    base_url: str


class Client:
    def __init__(self, credentials: Credentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        return Page(records=[])

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        response = await self._http.post(
            f"{self._credentials.base_url}/{kind}",
            json=dict(fields),
            headers={"X-API-KEY": self._credentials.api_key},
        )
        response.raise_for_status()
        return str(response.json()["id"])


PROVIDER = CRMProvider(
    name="pincrm",
    label="Pin CRM",
    credentials=Credentials,
    capabilities=frozenset({"push"}),
    client=Client,
)
PLUGIN = types.SimpleNamespace(
    aisle_crm_providers=hookimpl(lambda: [PROVIDER]),
    aisle_action_executors=hookimpl(lambda: [crm_update.EXECUTOR]),
    __name__="pin_crm_plugin",
)


@pytest.fixture
def crm() -> Iterator[FakeCRMServer]:
    with FakeCRMServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def registry() -> Registry:
    loaded = load_registry(entry_points=False, extra_plugins=[("pin_crm", PLUGIN)])
    assert not loaded.errors, loaded.errors
    return loaded


async def _push(
    store: Store, registry: Registry, settings: Settings, stored_credentials: str
) -> Any:
    runtime = Runtime(
        store, registry, settings.with_changes(environ={"AISLE_HTTP_ALLOW": "127.0.0.1"})
    )
    org = await store.organizations.create(slug="crm", name="CRM Studio")
    scope = runtime.for_org(org.id)
    await scope.crm_connections.create(
        provider="pincrm", name="main", credentials=stored_credentials, direction="push"
    )
    contact = await runtime.create_contact(org.id, Contact(email="couple@example.com"))
    run, _ = await scope.action_runs.create(
        executor="crm_update",
        config={"fields": {"venue": "The Barn"}},
        idempotency_key="crm-pin",
        contact_id=contact.id,
        max_attempts=1,
    )
    await drain(runtime)
    return await scope.action_runs.get(run.id)


async def test_stored_credentials_are_decrypted_for_the_provider(
    store: Store, registry: Registry, settings: Settings, crm: FakeCRMServer, clock: TestClock
) -> None:
    encrypted = CredentialCipher.from_settings(settings).encrypt(
        {"api_key": API_KEY, "base_url": crm.url}
    )
    assert API_KEY not in encrypted
    run = await _push(store, registry, settings, encrypted)
    assert run.status == "succeeded", run.last_error
    [pushed] = [r for r in crm.requests if r.method == "POST"]
    assert pushed.headers["x-api-key"] == API_KEY
    assert crm.stored("contacts", run.result["external_id"]) is not None
    assert API_KEY not in msgspec.json.encode(run.result).decode()


async def test_credentials_under_a_previous_key_still_decrypt(
    store: Store, registry: Registry, settings: Settings, crm: FakeCRMServer, clock: TestClock
) -> None:
    encrypted = CredentialCipher(OLD_KEY).encrypt({"api_key": API_KEY, "base_url": crm.url})
    rotated = settings.with_changes(previous_secret_keys=(OLD_KEY,))
    run = await _push(store, registry, rotated, encrypted)
    assert run.status == "succeeded", run.last_error


async def test_credentials_no_key_can_read_stop_the_run_without_reaching_the_crm(
    store: Store, registry: Registry, settings: Settings, crm: FakeCRMServer, clock: TestClock
) -> None:
    encrypted = CredentialCipher(OLD_KEY).encrypt({"api_key": API_KEY, "base_url": crm.url})
    run = await _push(store, registry, settings, encrypted)
    assert run.status == "dead"
    assert "credentials of CRM connection 'main' are unusable" in (run.last_error or "")
    assert crm.requests == []
