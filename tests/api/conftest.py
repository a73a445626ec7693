"""API test fixtures: the app on the shared ``store`` (SQLite and PostgreSQL), two
organizations with tokens of every role, and an HTTP client calling the app in the
test's event loop.

``shared`` is the same for a whole test module, on a database of its own: tests that
only make refused requests (other tenants, viewers) share one world instead of each
building it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from litestar import Litestar

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.domain.user import ROLES
from aisle.settings import Settings
from aisle.storage.database import Database, connect
from aisle.storage.migrate import run_migrations
from aisle.storage.store import Store
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    TEST_SECRET_KEY,
    _reachable,
    _with_database,
    service_unavailable,
)


@dataclass
class Org:
    id: str
    slug: str
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str = "owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def make_org(store: Store, slug: str) -> Org:
    org = await store.organizations.create(slug=slug, name=slug.title())
    scope = store.for_org(org.id)
    made = Org(id=org.id, slug=slug)
    for role in ROLES:
        user = await scope.users.create(email=f"{role}@{slug}.example", role=role)
        _, plaintext = await scope.tokens.create(name=f"{role} token", role=role, user_id=user.id)
        made.tokens[role] = plaintext
        made.users[role] = user.id
    return made


async def make_org_through_api(client: httpx.AsyncClient, store: Store, slug: str) -> Org:
    """A studio opened as an operator opens one (``POST /organizations``), whose owner
    then adds a user and a token of every role through the API."""
    _, operator = await store.operator_tokens.create(name=f"tests: {slug}")
    opened = await client.post(
        "/api/v1/organizations",
        json={"slug": slug, "name": slug.title()},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert opened.status_code == 201, opened.text
    made = Org(id=opened.json()["id"], slug=slug)
    owner = {"Authorization": f"Bearer {opened.json()['owner_token']['token']}"}
    for role in ROLES:
        user = await client.post(
            "/api/v1/users", json={"email": f"{role}@{slug}.example", "role": role}, headers=owner
        )
        assert user.status_code == 201, user.text
        token = await client.post(
            "/api/v1/tokens",
            json={"name": f"{role} token", "role": role, "user_id": user.json()["id"]},
            headers=owner,
        )
        assert token.status_code == 201, token.text
        made.tokens[role] = token.json()["token"]
        made.users[role] = user.json()["id"]
    return made


def build_app(store: Store, registry: Registry, config: ApiConfig, data_dir: Path) -> Litestar:
    # A key so that CRM connections can store their credentials.
    settings = Settings(
        data_dir=str(data_dir), database_url=store.db.url, secret_key=TEST_SECRET_KEY
    )
    return create_app(settings, registry, store=store, config=config)


async def open_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield a client calling it in this event loop (the
    store's connections, and asyncpg's pool, belong to this loop).

    The lifespan runs in a task of its own, so it is entered and left in one task even
    when a module-scoped fixture is torn down from another.
    """
    started = asyncio.Event()
    stop = asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        stop.set()
        await task


@pytest.fixture
def api_config() -> ApiConfig:
    return ApiConfig(rate_limit=0)


@pytest.fixture
def app(store: Store, registry: Registry, api_config: ApiConfig, tmp_path: Path) -> Litestar:
    return build_app(store, registry, api_config, tmp_path / "data")


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async for c in open_client(app):
        yield c


@pytest.fixture
async def org_a(store: Store) -> Org:
    return await make_org(store, "alpha")


@pytest.fixture
async def org_b(store: Store) -> Org:
    return await make_org(store, "bravo")


# -- one world per module ------------------------------------------------------------


@dataclass
class Shared:
    store: Store
    app: Litestar
    client: httpx.AsyncClient
    org_a: Org
    org_b: Org
    world: Any = None


async def _postgres_database(name: str) -> str:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return _with_database(POSTGRES_ADMIN_URL, name)


async def _drop_postgres_database(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def shared_db(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    xdist_worker: str,
    test_run_id: str,
) -> AsyncIterator[Database]:
    """A migrated database for one test module alone (other modules truncate theirs)."""
    name = ""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("api-shared") / "aisle.sqlite3"
        shutil.copyfile(template, path)
        db = await connect(f"sqlite:///{path}")
    else:
        if not _reachable(POSTGRES_ADMIN_URL, 5432):
            service_unavailable("PostgreSQL", POSTGRES_ADMIN_URL)
        module = request.module.__name__.rsplit(".", 1)[-1][:20]
        name = f"aisle_api_{test_run_id}_{xdist_worker}_{module}".replace("-", "_")
        db = await connect(await _postgres_database(name), pool_min=1, pool_max=4)
        await run_migrations(db)
    try:
        yield db
    finally:
        await db.close()
        if name:
            await _drop_postgres_database(name)


@pytest.fixture(autouse=True)
def _bind_shared(request: pytest.FixtureRequest) -> Iterator[None]:
    # piccolo binds tables process-wide; other modules' tests rebind them to their own
    # database, so a module sharing one binds it again before each of its tests.
    if "shared" in request.fixturenames:
        request.getfixturevalue("shared_db").bind()
    yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(
    shared_db: Database, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Shared]:
    store = Store(shared_db, TestClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    app = build_app(store, registry, ApiConfig(rate_limit=0), tmp_path_factory.mktemp("api"))
    async for client in open_client(app):
        yield Shared(
            store=store,
            app=app,
            client=client,
            org_a=await make_org(store, "alpha"),
            # The other studio is opened the way an operator opens one.
            org_b=await make_org_through_api(client, store, "bravo"),
        )
