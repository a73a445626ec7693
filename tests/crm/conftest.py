"""CRM sync fixtures: a registry with SyncCRM (and a pull-only copy) and OAuthCRM, its
fake server, a studio and the deps."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aisle import CRMProvider, hookimpl
from aisle.contracts.registry import Registry
from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.domain.crm_connection import CRMConnection
from aisle.domain.sync_run import SyncRun
from aisle.http import client
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store
from aisle.testing import FakeCRMServer
from tests.crm.oauthcrm import OAUTHCRM
from tests.crm.synccrm import API_KEY, SYNCCRM, WEBHOOK_SECRET

PULL_ONLY = dataclasses.replace(SYNCCRM, name="pullonly", capabilities=frozenset({"pull"}))
"""SyncCRM without its ``push``: a CRM the engine only reads."""


class _Plugin:
    @hookimpl
    def aisle_crm_providers(self) -> list[CRMProvider]:
        return [SYNCCRM, PULL_ONLY, OAUTHCRM]


@pytest.fixture(scope="session")
def crm_registry() -> Registry:
    return load_registry(extra_plugins=[("synccrm", _Plugin())])


@pytest.fixture
def fake() -> Iterator[FakeCRMServer]:
    with FakeCRMServer(api_key=API_KEY, page_size=100) as server:
        yield server


@pytest.fixture
def crm_runtime(store: Store, crm_registry: Registry, settings: Settings) -> Runtime:
    return Runtime(store, crm_registry, settings)


class Sleeps:
    """The sleeper the engine waits with: records, never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def deps(crm_runtime: Runtime, sleeps: Sleeps) -> CRMDeps:
    return CRMDeps.of(
        crm_runtime,
        http=lambda: client(allow=["127.0.0.1/32"], timeout=10.0),
        sleep=sleeps,
    )


@pytest.fixture
async def studio(crm_runtime: Runtime) -> OrgScope:
    org = await crm_runtime.store.organizations.create(
        slug="studio", name="Studio", settings={"country": "GB"}
    )
    return crm_runtime.for_org(org.id)


def credentials(fake: FakeCRMServer, **more: Any) -> dict[str, Any]:
    return {"api_key": API_KEY, "base_url": fake.url, **more}


ADMIN = Operator(actor="test:admin", role="admin")


@pytest.fixture
async def connection(deps: CRMDeps, studio: OrgScope, fake: FakeCRMServer) -> CRMConnection:
    """A SyncCRM connection of the studio, pulling, with a webhook secret."""
    return await ConnectionService(deps, studio, ADMIN).create(
        provider="synccrm",
        name="Main",
        credentials=credentials(fake, webhook_secret=WEBHOOK_SECRET),
        direction="both",
    )


async def until(
    condition: Callable[[SyncRun], bool], scope: OrgScope, run_id: str, seconds: float
) -> SyncRun:
    """The run once ``condition`` holds for it (polled), failing after ``seconds``."""
    async with asyncio.timeout(seconds):
        while True:
            run = await scope.sync_runs.get(run_id)
            if condition(run):
                return run
            await asyncio.sleep(0.05)


def over(run: SyncRun) -> bool:
    return run.status not in ("queued", "running")
