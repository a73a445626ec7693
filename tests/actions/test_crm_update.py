"""The crm_update executor through a CRM provider the test registers, on a fake CRM."""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx
import msgspec
import pytest

from actions.conftest import MakeContext, planned
from aisle import CRMProvider, Page, PermanentError, RateLimited, RetryableError, hookimpl
from aisle.contracts.actions import CRMAccess
from aisle.plugins.manager import load_registry
from aisle.testing.fake_crm import FakeCRMServer
from aisle.testing.services import RecordingServices
from aisle_actions import crm_update

API_KEY = "crm-key-very-secret"


class Credentials(msgspec.Struct):
    api_key: str
    base_url: str


class Client:
    """Pushes records to the fake CRM the way a real provider's client would."""

    def __init__(self, credentials: Credentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        return Page(records=[])

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        base = f"{self._credentials.base_url}/{kind}"
        headers = {"X-API-KEY": self._credentials.api_key}
        if external_id is None:
            response = await self._http.post(base, json=dict(fields), headers=headers)
        else:
            response = await self._http.put(
                f"{base}/{external_id}", json=dict(fields), headers=headers
            )
        if response.status_code == 429:
            raise RateLimited(float(response.headers["Retry-After"]))
        response.raise_for_status()
        return str(response.json()["id"])


def make_provider(capabilities: Iterable[str] = ("pull", "push")) -> CRMProvider:
    return CRMProvider(
        name="testcrm",
        label="Test CRM",
        credentials=Credentials,
        capabilities=frozenset(capabilities),
        client=Client,
    )


test_plugin = types.SimpleNamespace(
    aisle_crm_providers=hookimpl(lambda: [make_provider()]), __name__="test_crm_plugin"
)


@pytest.fixture
def fake_crm() -> Iterator[FakeCRMServer]:
    with FakeCRMServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def provider() -> CRMProvider:
    """The provider as the registry hands it out after loading the test's plugin."""
    registry = load_registry(extra_plugins=[("test_crm", test_plugin)])
    return registry.crm_providers["testcrm"]


def connect(
    services: RecordingServices,
    provider: CRMProvider,
    server: FakeCRMServer,
    *,
    external_id: str | None = None,
    direction: str = "both",
) -> None:
    services.crm = CRMAccess(
        connection_id="conn_1",
        provider=provider,
        credentials=Credentials(api_key=API_KEY, base_url=server.url),
        direction=direction,
        field_mapping={"venue": "event_location", "custom.package": "package_name"},
        external_id=external_id,
    )


async def test_fields_are_mapped_rendered_and_pushed(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
    contact: dict[str, Any],
) -> None:
    (existing,) = fake_crm.seed("contacts", [{"name": "Ada"}])
    connect(action_services, provider, fake_crm, external_id=existing)
    config = planned(
        "crm_update",
        {"fields": {"venue": "{{ venue }}", "status": "Booked for {{ wedding_date }}"}},
        contact,
    )
    result = await crm_update.execute(make_context(config, "enr:1:crm:main"))
    stored = fake_crm.stored("contacts", existing)
    assert stored is not None
    assert stored["event_location"] == "The Assembly Rooms, Bath"
    assert stored["status"] == "Booked for Saturday 12 September 2026"
    assert stored["name"] == "Ada"
    (request,) = fake_crm.requests
    assert (request.method, request.path) == ("PUT", f"/contacts/{existing}")
    assert request.headers["idempotency-key"] == "enr:1:crm:main"
    assert result.detail["external_id"] == existing
    assert result.detail["created"] is False


async def test_a_contact_without_a_record_gets_one_and_keeps_it(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
) -> None:
    connect(action_services, provider, fake_crm)
    first = await crm_update.execute(make_context({"fields": {"stage": "lead"}}, "one"))
    second = await crm_update.execute(make_context({"fields": {"stage": "booked"}}, "two"))
    assert first.detail["created"] is True
    assert second.detail["created"] is False
    assert second.detail["external_id"] == first.detail["external_id"]
    assert [r.method for r in fake_crm.requests] == ["POST", "PUT"]
    stored = fake_crm.stored("contacts", first.detail["external_id"])
    assert stored is not None and stored["stage"] == "booked"


async def test_a_repeated_run_pushes_once(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
) -> None:
    connect(action_services, provider, fake_crm, external_id=fake_crm.seed("contacts", [{}])[0])
    await crm_update.execute(make_context({"fields": {"stage": "x"}}, "k", attempt=1))
    again = await crm_update.execute(make_context({"fields": {"stage": "x"}}, "k", attempt=2))
    assert len(fake_crm.requests) == 1
    assert again.detail["deduplicated"] is True


async def test_rate_limit_is_retryable_with_the_delay(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
) -> None:
    connect(action_services, provider, fake_crm)
    fake_crm.rate_limit(retry_after=42)
    with pytest.raises(RetryableError) as info:
        await crm_update.execute(make_context({"fields": {"stage": "x"}}))
    assert info.value.retry_after == 42


async def test_remote_errors_are_classified_and_keep_the_key_secret(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
) -> None:
    connect(action_services, provider, fake_crm, external_id="404-missing")
    with pytest.raises(PermanentError, match="404") as info:
        await crm_update.execute(make_context({"fields": {"stage": "x"}}))
    assert API_KEY not in str(info.value)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("none", "no enabled CRM connection"),
        ("pull_only_provider", "cannot push"),
        ("pull_direction", "only pulls"),
    ],
)
async def test_unusable_connections_are_permanent(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
    setup: str,
    message: str,
) -> None:
    if setup == "pull_only_provider":
        connect(action_services, make_provider(["pull"]), fake_crm)
    elif setup == "pull_direction":
        connect(action_services, provider, fake_crm, direction="pull")
    with pytest.raises(PermanentError, match=message):
        await crm_update.execute(make_context({"fields": {"stage": "x"}}))
    assert fake_crm.requests == []


async def test_provider_named_in_the_config_must_match(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
) -> None:
    connect(action_services, provider, fake_crm)
    with pytest.raises(PermanentError, match="for provider 'tave'"):
        await crm_update.execute(make_context({"fields": {"a": "b"}, "provider": "tave"}))


async def test_empty_fields_are_refused(make_context: MakeContext) -> None:
    with pytest.raises(PermanentError, match="field 'fields'"):
        await crm_update.execute(make_context({"fields": {}}))


async def test_a_kind_the_provider_does_not_take_is_refused_naming_the_field(
    fake_crm: FakeCRMServer,
    provider: CRMProvider,
    action_services: RecordingServices,
    make_context: MakeContext,
    contact: dict[str, Any],
) -> None:
    connect(action_services, provider, fake_crm)
    config = planned("crm_update", {"fields": {"venue": "x"}, "kind": "invoices"}, contact)
    with pytest.raises(PermanentError, match=r"field 'kind'.*takes contacts, not 'invoices'"):
        await crm_update.execute(make_context(config, "enr:1:crm:kind"))
    assert fake_crm.requests == []
