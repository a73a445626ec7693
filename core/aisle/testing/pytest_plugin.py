"""Aisle's pytest plugin (entry point ``pytest11``): shared fixtures for plugin tests.

Loaded automatically wherever Aisle (``aisle-journeys``) is installed, so it imports
nothing from Aisle at load time (a fixture imports what it needs when a test asks for it),
and its async fixtures need ``pytest-asyncio`` only when used
(``pip install 'aisle-journeys[testing]'``).
Every fixture name starts with ``aisle_`` so a project's own ``conftest.py`` never
clashes with these.

- ``aisle_clock``: a :class:`~aisle.clock.TestClock` at :data:`~aisle.testing.SAMPLE_NOW`.
- ``aisle_registry``: the installed plugins, loaded as ``aisle serve`` loads them.
- ``aisle_settings``: settings for a temporary SQLite database and data directory.
- ``aisle_store``: that database, migrated and connected, timed by ``aisle_clock``.
- ``aisle_runtime``: the engine wrapped with storage (events in, enrollments, tasks).
- ``aisle_studio``: an organization with an owner API token.
- ``aisle_jobs``: scheduler, relay and workers run in-process on ``aisle_clock``.
- ``aisle_client``: an ``httpx.AsyncClient`` calling the HTTP API in process, signed in
  as ``aisle_studio``'s owner.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

try:
    import pytest_asyncio

    _async_fixture: Callable[..., Any] = pytest_asyncio.fixture
except ImportError:  # aisle without its [testing] extra: the async fixtures say so if used
    _async_fixture = pytest.fixture

if TYPE_CHECKING:
    import httpx

    from aisle.clock import TestClock
    from aisle.contracts.registry import Registry
    from aisle.runtime.service import Runtime
    from aisle.settings import Settings
    from aisle.storage.store import Store
    from aisle.testing.harness import InProcessJobs, Studio

__all__ = [
    "aisle_client",
    "aisle_clock",
    "aisle_jobs",
    "aisle_registry",
    "aisle_runtime",
    "aisle_settings",
    "aisle_store",
    "aisle_studio",
]


@pytest.fixture
def aisle_clock() -> TestClock:
    """A clock standing at :data:`~aisle.testing.SAMPLE_NOW` until the test moves it."""
    from aisle.clock import TestClock
    from aisle.testing.samples import SAMPLE_NOW

    return TestClock(SAMPLE_NOW)


@pytest.fixture
def aisle_registry() -> Registry:
    """The installed plugins as Aisle loads them (built-ins, then entry points)."""
    from aisle.plugins.manager import load_registry

    return load_registry()


@pytest.fixture
def aisle_settings(tmp_path: Path) -> Settings:
    """Settings for a SQLite database and a data directory under ``tmp_path``."""
    from aisle.settings import Settings

    return Settings(
        data_dir=str(tmp_path / "aisle-data"),
        database_url=f"sqlite:///{tmp_path / 'aisle.sqlite3'}",
        secret_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        poll_interval_seconds=0.05,
    )


@_async_fixture
async def aisle_store(aisle_settings: Settings, aisle_clock: TestClock) -> AsyncIterator[Store]:
    """The temporary database, migrated and connected; timestamps from ``aisle_clock``."""
    from aisle.storage.store import Store

    store = await Store.open(aisle_settings, clock=aisle_clock)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def aisle_runtime(
    aisle_store: Store, aisle_registry: Registry, aisle_settings: Settings
) -> Runtime:
    """The engine on the temporary database: ingest events, enroll, complete tasks."""
    from aisle.runtime.service import Runtime

    return Runtime(aisle_store, aisle_registry, aisle_settings)


@_async_fixture
async def aisle_studio(aisle_store: Store) -> Studio:
    """An organization (``studio``) with an owner API token."""
    from aisle.testing.harness import Studio

    org = await aisle_store.organizations.create(slug="studio", name="Test Studio")
    scope = aisle_store.for_org(org.id)
    user = await scope.users.create(email="owner@studio.example", role="owner")
    _, token = await scope.tokens.create(name="tests", role="owner", user_id=user.id)
    return Studio(id=org.id, slug=org.slug, token=token, scope=scope)


@pytest.fixture
def aisle_jobs(aisle_runtime: Runtime, aisle_clock: TestClock) -> InProcessJobs:
    """Aisle's jobs, run in the test's task until nothing is due (see
    :class:`~aisle.testing.harness.InProcessJobs`)."""
    from aisle.testing.harness import InProcessJobs

    return InProcessJobs(aisle_runtime, aisle_clock)


@_async_fixture
async def aisle_client(
    aisle_settings: Settings,
    aisle_registry: Registry,
    aisle_store: Store,
    aisle_clock: TestClock,
    aisle_runtime: Runtime,
    aisle_studio: Studio,
) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API in process (``/api/v1``…), authenticated as ``aisle_studio``'s owner."""
    import httpx

    from aisle.api import create_app
    from aisle.api.config import ApiConfig

    # Litestar is an ASGI app; its precise scope types are narrower than httpx's.
    app: Any = create_app(
        aisle_settings,
        aisle_registry,
        store=aisle_store,
        clock=aisle_clock,
        runtime=aisle_runtime,
        config=ApiConfig(rate_limit=0),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers=aisle_studio.auth,
    ) as client:
        yield client
