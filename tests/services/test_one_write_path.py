"""One write path per state change: the demo seed (what ``aisle demo`` and ``aisle serve``
run) and the API publish, enroll and migrate through the same services, so they leave
the same automation-log entries and wake the jobs the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aisle.api.app import create_app
from aisle.api.config import ApiConfig
from aisle.cli.seed import ensure_demo
from aisle.contracts.registry import Registry
from aisle.runtime import Runtime
from aisle.services.lifecycle import Lifecycle
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import Org, make_org, open_client
from tests.api.helpers import small_flow


class Wakes:
    """Counts the runtime's "work was queued" signals (what wakes the embedded jobs)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def runtime(store: Store, registry: Registry, tmp_path: Path, wakes: Wakes) -> Runtime:
    settings = Settings(data_dir=str(tmp_path / "data"), database_url=store.db.url)
    return Runtime(store, registry, settings, on_work=wakes)


@pytest.fixture
async def client(runtime: Runtime, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        runtime.settings,
        runtime.registry,
        store=runtime.store,
        config=ApiConfig(rate_limit=0),
        runtime=runtime,
    )
    async for c in open_client(app):
        yield c


async def _log(store: Store, org_id: str, kind: str) -> list[Any]:
    return [e for e in await store.for_org(org_id).log.list(limit=1000) if e.kind == kind]


async def test_seed_and_api_publish_enroll_and_migrate_alike(
    client: httpx.AsyncClient, runtime: Runtime, store: Store, wakes: Wakes
) -> None:
    # The seed: the demo journey is created, published, and couples enroll.
    seed = await ensure_demo(runtime)
    assert seed.journey_id is not None
    seeded = seed.organization.id
    (created,) = await _log(store, seeded, "journey.created")
    (published,) = await _log(store, seeded, "journey.published")
    assert (published.actor, published.journey_id, published.journey_version) == (
        "aisle demo",
        seed.journey_id,
        1,
    )
    assert published.message == "version 1 published from revision 0"
    assert set(published.data) == {"revision", "note"}
    assert created.journey_id == seed.journey_id
    seed_wakes = wakes.count
    assert seed_wakes >= 1  # the couples' enquiries queued their first actions

    # The API: the same kinds, with the same shape.
    org: Org = await make_org(store, "api")
    headers = org.auth("owner")

    async def call(method: str, url: str, status: int = 200, **kw: Any) -> Any:
        sent = headers | kw.pop("headers", {})
        response = await client.request(method, f"/api/v1{url}", headers=sent, **kw)
        assert response.status_code == status, (method, url, response.text)
        return response.json() if response.content else None

    journey = await call(
        "POST",
        "/journeys",
        201,
        json={"name": "J", "flow": small_flow(), "settings": {"start_step": "brochure"}},
    )
    jid = journey["id"]
    await call("POST", f"/journeys/{jid}/publish", 201, json={})
    (api_created,) = await _log(store, org.id, "journey.created")
    (api_published,) = await _log(store, org.id, "journey.published")
    assert api_published.message == published.message
    assert set(api_published.data) == set(published.data)
    assert api_created.journey_id == jid

    contact = await call("POST", "/contacts", 201, json={"email": "a@example.com"})
    before = wakes.count
    enrollment = await call(
        "POST", "/enrollments", 201, json={"contact_id": contact["id"], "journey_id": jid}
    )
    assert wakes.count == before + 1

    flow = small_flow()
    flow["nodes"][1]["id"] = "pause"
    flow["edges"][0]["target"] = "pause"
    flow["edges"][1]["source"] = "pause"
    current = await call("GET", f"/journeys/{jid}")
    await call("PUT", f"/journeys/{jid}/flow", json=flow, headers={"If-Match": current["etag"]})
    await call("POST", f"/journeys/{jid}/publish", 201, json={})
    before = wakes.count
    body = {"from_version": 1, "to_version": 2, "step_mapping": {"wait": "pause"}}
    done = await call("POST", f"/journeys/{jid}/migrate", json=body)
    assert [m["enrollment_id"] for m in done["moved"]] == [enrollment["id"]]
    # The move went through the runtime: it logged, and it woke the jobs for the new wait.
    assert wakes.count == before + 1
    (migrated,) = await _log(store, org.id, "enrollment.migrated")
    assert (migrated.enrollment_id, migrated.journey_version, migrated.step_id) == (
        enrollment["id"],
        2,
        "pause",
    )

    # What the CLI would call moves the demo's couples the same way.
    lifecycle = Lifecycle(runtime, store.for_org(seeded), Operator(actor="aisle demo"))
    version, _ = await lifecycle.publish(seed.journey_id, "again")
    before = wakes.count
    plan = await lifecycle.migrate(seed.journey_id, from_version=1, to_version=version.version)
    assert plan.moved and wakes.count == before + len(plan.moved)
    assert len(await _log(store, seeded, "enrollment.migrated")) == len(plan.moved)


async def test_the_seed_publishes_only_what_the_api_would(
    store: Store, registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis (not embedded) and no SMTP host, the email executor's publish-time
    check refuses the demo journey as it refuses it through the API: the seed leaves it
    a draft, with no couples in it, and says why."""
    production = Settings(
        data_dir=str(tmp_path / "prod"),
        database_url=store.db.url,
        redis_url="redis://127.0.0.1:6379/0",
    )
    assert not production.embedded
    seed = await ensure_demo(Runtime(store, registry, production))
    assert seed.journey_id is not None and seed.contacts == 0
    journey = await store.for_org(seed.organization.id).journeys.get(seed.journey_id)
    assert (journey.status, journey.live_version) == ("draft", None)
    assert await _log(store, seed.organization.id, "journey.published") == []
    assert "no SMTP host" in caplog.text
