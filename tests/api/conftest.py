"""API test fixtures: the app on the shared ``store`` (SQLite and PostgreSQL), two
organizations with tokens of every role, and an async client per token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.domain.user import ROLES
from aisle.plugins.manager import Registry
from aisle.settings import Settings
from aisle.storage.store import Store


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


@pytest.fixture
def api_config() -> ApiConfig:
    return ApiConfig(rate_limit=0)


@pytest.fixture
def app(store: Store, registry: Registry, api_config: ApiConfig, tmp_path: Any) -> Litestar:
    settings = Settings(data_dir=str(tmp_path / "data"), database_url=store.db.url)
    return create_app(settings, registry, store=store, config=api_config)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in this event loop (the store's connections, and
    asyncpg's pool, belong to this loop)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def org_a(store: Store) -> Org:
    return await make_org(store, "alpha")


@pytest.fixture
async def org_b(store: Store) -> Org:
    return await make_org(store, "bravo")
