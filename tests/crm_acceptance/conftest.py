"""A live ``aisle serve`` on the test's database (SQLite or PostgreSQL), the CRM fakes on
real sockets, and a studio opened with ``aisle org create``.

CRM connections are made through the live API (``POST /api/v1/crm/connections``); the
test process keeps the CRM services on the same database and key (``Live.deps``) for what
an operator does outside the API, such as re-encrypting credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from aisle.crm import CRMDeps
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store
from aisle_crm_honeybook.fake import FakeHoneyBookZapier
from aisle_crm_tave.fake import FakeTave
from tests.api.helpers import edge, node
from tests.cli.processes import clean_env, run_aisle
from tests.cli.test_serve_command import Served, serving

KEY = "YWNjZXB0YW5jZS1rZXktYWNjZXB0YW5jZS1rZXktMDE="
TAVE_KEY = "tave-live-key-5f0c1e9a7b3d2468ace0"
HB_SECRET = "whsec_bGl2ZS1ob25leWJvb2stYnJpZGdlLXNlY3JldC0wMQ=="
STRIPE_SECRET = "whsec_liveStripeEndpointSecret0123456789"
SECRETS = (KEY, TAVE_KEY, HB_SECRET, STRIPE_SECRET)


@dataclass
class Studio:
    """A studio on the live server: its id, an owner's API, and its scope in the test."""

    id: str
    api: Api
    scope: OrgScope


class Api:
    """The live server's API as the studio's owner."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def __call__(self, method: str, url: str, status: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, f"/api/v1{url}", headers=self.headers, **kw)
        assert response.status_code == status, (method, url, response.text)
        return response.json() if response.content else None


@dataclass
class Live:
    served: Served
    store: Store
    deps: CRMDeps
    """The CRM services in the test process, on the server's database and key."""
    client: httpx.AsyncClient
    """Plain HTTP to the server (no token)."""
    env: dict[str, str]
    """The server's environment (for ``aisle`` commands beside it)."""

    @property
    def url(self) -> str:
        return self.served.url

    def inbound(self, connection_id: str) -> str:
        return f"{self.url}/api/v1/inbound/crm/{connection_id}"

    async def open_studio(self, slug: str) -> Studio:
        opened = await run_aisle(
            "org", "create", slug, "--name", slug.title(), "--json", env=self.env
        )
        assert opened.returncode == 0, opened.stderr
        document = msgspec.json.decode(opened.stdout)
        org_id = document["organization"]["id"]
        api = Api(self.client, document["owner_token"]["token"])
        return Studio(id=org_id, api=api, scope=self.deps.for_org(org_id))

    async def connect(self, studio: Studio, provider: str, **credentials: Any) -> str:
        """A connection made by the studio's owner through the API; its id."""
        body = {
            "provider": provider,
            "name": provider.title(),
            "credentials": credentials,
            "direction": "both",
        }
        created = await studio.api("POST", "/crm/connections", 201, json=body)
        assert set(credentials) <= set(created["credentials_set"])
        assert created["credentials_usable"] is True
        return str(created["id"])


def crm_deps(store: Store, data_dir: Path, key: str, previous: tuple[str, ...] = ()) -> CRMDeps:
    settings = Settings(
        data_dir=str(data_dir),
        database_url=store.db.url,
        secret_key=key,
        previous_secret_keys=previous,
    )
    return CRMDeps.of(Runtime(store, load_registry(), settings))


@asynccontextmanager
async def live_server(store: Store, data_dir: Path, **env: str) -> AsyncIterator[Live]:
    """``aisle serve`` on ``store``'s database; ``env`` overrides the server's settings."""
    settings = {
        "AISLE_SECRET_KEY": KEY,
        "AISLE_HTTP_ALLOW": "127.0.0.1/32",
        "AISLE_RATE_LIMIT": "0",
        "AISLE_POLL_INTERVAL_SECONDS": "0.1",
        "AISLE_DATABASE_URL": store.db.url,
        "AISLE_DATA_DIR": str(data_dir),
    }
    full = clean_env(**{**settings, **env})
    async with (
        serving(data_dir, "--port", "0", env=full) as served,
        httpx.AsyncClient(base_url=served.url, timeout=30) as client,
    ):
        yield Live(served, store, crm_deps(store, data_dir, KEY), client, full)


@pytest.fixture
async def live(store: Store, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(store, tmp_path / "data") as server:
        yield server


@pytest.fixture
def tave() -> Iterator[FakeTave]:
    with FakeTave(api_key=TAVE_KEY) as server:
        yield server


@pytest.fixture
def zapier() -> Iterator[FakeHoneyBookZapier]:
    with FakeHoneyBookZapier(HB_SECRET) as server:
        yield server


async def deposit_journey(api: Api, currency: str) -> str:
    """A published journey whose couples wait for a deposit of at least 100 ``currency``."""
    flow = {
        "nodes": [node("deposit", "wait", 0, 0, label="Deposit"), node("booked", "end", 250, 0)],
        "edges": [
            edge(
                "paid", "deposit", "booked", "payment_received", min_amount="100", currency=currency
            )
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    return await publish(api, "Deposit", flow, "deposit")


async def publish(api: Api, name: str, flow: dict[str, Any], start: str) -> str:
    journey = await api(
        "POST",
        "/journeys",
        201,
        json={"name": name, "flow": flow, "settings": {"start_step": start}},
    )
    await api("POST", f"/journeys/{journey['id']}/publish", 201, json={})
    return str(journey["id"])


async def enroll(api: Api, journey_id: str, **contact: Any) -> dict[str, Any]:
    """A new couple enrolled in ``journey_id``: the enrollment (with ``contact_id``)."""
    created = await api("POST", "/contacts", 201, json=contact)
    enrolled: dict[str, Any] = await api(
        "POST", "/enrollments", 201, json={"contact_id": created["id"], "journey_id": journey_id}
    )
    return enrolled


async def until(check: Callable[[], Any], seconds: float = 20.0) -> Any:
    """``check()``'s first truthy answer (awaited when it is a coroutine), polled."""
    async with asyncio.timeout(seconds):
        while True:
            answer = check()
            if asyncio.iscoroutine(answer):
                answer = await answer
            if answer:
                return answer
            await asyncio.sleep(0.1)


async def completed(api: Api, enrollment_id: str) -> dict[str, Any]:
    """The enrollment once it has completed (polled)."""

    async def check() -> dict[str, Any] | None:
        enrollment: dict[str, Any] = await api("GET", f"/enrollments/{enrollment_id}")
        return enrollment if enrollment["status"] == "completed" else None

    done: dict[str, Any] = await until(check)
    return done
