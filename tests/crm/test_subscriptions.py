"""REST-hook subscriptions of a Tave connection against the fake Workspace API over a
real socket: subscribed on create and enable, removed on disable and delete, a refusal
recorded on the connection; the inbound URL under AISLE_PUBLIC_URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aisle.contracts.registry import Registry
from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.crm.subscriptions import SUBSCRIPTION_FAILED
from aisle.env import SettingsError
from aisle.http import client
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store
from aisle_crm_tave.fake import FakeTave
from tests.crm.conftest import ADMIN, Sleeps

KEY = "tave-subscriptions-key-4e1b7f"
PUBLIC = "https://aisle.example.com"
EVENTS = {"contact.created", "job.created", "order.booked", "payment.created"}


@pytest.fixture
def tave() -> Iterator[FakeTave]:
    with FakeTave(api_key=KEY) as server:
        yield server


def _deps(store: Store, registry: Registry, settings: Settings) -> CRMDeps:
    return CRMDeps.of(
        Runtime(store, registry, settings),
        http=lambda: client(allow=["127.0.0.1/32"], timeout=10.0),
        sleep=Sleeps(),
        retries=1,
    )


@pytest.fixture
def deps(store: Store, registry: Registry, settings: Settings) -> CRMDeps:
    return _deps(store, registry, settings.with_changes(public_url=PUBLIC))


@pytest.fixture
async def scope(deps: CRMDeps) -> OrgScope:
    org = await deps.store.organizations.create(slug="studio", name="Studio")
    return deps.for_org(org.id)


async def test_a_tave_connection_subscribes_its_hooks_until_deleted(
    deps: CRMDeps, scope: OrgScope, tave: FakeTave
) -> None:
    service = ConnectionService(deps, scope, ADMIN)
    made = await service.create(
        provider="tave", name="Tave", credentials={"api_key": KEY, "base_url": tave.url}
    )

    url = f"{PUBLIC}/api/v1/inbound/crm/{made.id}"
    assert service.inbound_url(made) == url
    hooks = tave.subscribed()
    assert {event for event, _ in hooks.values()} == EVENTS and len(hooks) == 4
    assert {target for _, target in hooks.values()} == {url}
    assert sorted(made.settings["subscriptions"]["ids"]) == sorted(hooks)
    assert made.status == "new" and not made.last_error

    disabled = await service.update(made.id, enabled=False)
    assert tave.subscribed() == {} and "subscriptions" not in disabled.settings
    enabled = await service.update(made.id, enabled=True)
    assert len(tave.subscribed()) == 4
    assert sorted(enabled.settings["subscriptions"]["ids"]) == sorted(tave.subscribed())

    await service.delete(made.id)
    assert tave.subscribed() == {}


async def test_a_refused_subscription_is_the_connection_s_error_not_a_failure(
    deps: CRMDeps, scope: OrgScope, tave: FakeTave
) -> None:
    service = ConnectionService(deps, scope, ADMIN)
    wrong = "not-the-studio-key-0b3c"

    made = await service.create(
        provider="tave", name="Tave", credentials={"api_key": wrong, "base_url": tave.url}
    )

    assert made.status == SUBSCRIPTION_FAILED
    assert made.last_error is not None and "webhooks failed" in made.last_error
    assert wrong not in made.last_error and "subscriptions" not in made.settings
    assert tave.subscribed() == {}
    # Mended credentials, then enabled again: subscribed, the error cleared.
    await service.update(made.id, credentials={"api_key": KEY, "base_url": tave.url})
    again = await service.update(made.id, enabled=True)
    assert len(tave.subscribed()) == 4 and not again.last_error
    assert again.status != SUBSCRIPTION_FAILED


async def test_without_a_public_url_nothing_is_subscribed(
    store: Store, registry: Registry, settings: Settings, tave: FakeTave
) -> None:
    deps = _deps(store, registry, settings)
    org = await store.organizations.create(slug="studio", name="Studio")
    service = ConnectionService(deps, deps.for_org(org.id), ADMIN)

    made = await service.create(
        provider="tave", name="Tave", credentials={"api_key": KEY, "base_url": tave.url}
    )

    assert tave.subscribed() == {}
    assert service.inbound_url(made) == f"/api/v1/inbound/crm/{made.id}"


def test_the_public_url_setting_is_an_http_url() -> None:
    env = {"AISLE_SECRET_KEY": "k", "AISLE_PUBLIC_URL": "https://aisle.example.com/ "}
    assert Settings.from_env(env, create_dirs=False).public_url == PUBLIC
    assert Settings.from_env({"AISLE_SECRET_KEY": "k"}, create_dirs=False).public_url is None
    with pytest.raises(SettingsError, match="AISLE_PUBLIC_URL"):
        Settings.from_env({**env, "AISLE_PUBLIC_URL": "aisle.example.com"}, create_dirs=False)
