"""Two API processes on one PostgreSQL and one Redis: what happens on A is seen on B.

The processes are real (``uvicorn --factory aisle.api:create_app`` subprocesses);
the scheduler's sweep runs against the same Redis and reaches them too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from aisle.clock import TestClock
from aisle.collab import LiveHub, decode_event
from aisle.collab.events import LockExpired
from aisle.jobs.deps import JobDeps
from aisle.jobs.scheduler import scheduler_pass
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.collab_locks import LockRepository, LockTarget
from aisle.storage.store import Store
from aisle.testing.servers import serve_in_process

from .conftest import Studio

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SECRET = "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LXRlc3Q="


@pytest.fixture
async def two_processes(
    store: Store, redis_url: str, redis_namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    env = {
        "AISLE_DATABASE_URL": store.db.url,
        "AISLE_REDIS_URL": redis_url,
        "AISLE_QUEUE_NAMESPACE": redis_namespace,
        "AISLE_SECRET_KEY": SECRET,
        "AISLE_DATA_DIR": str(tmp_path / "data"),
        "AISLE_RATE_LIMIT": "0/second",
    }
    async with AsyncExitStack() as stack:
        a, b = await asyncio.gather(
            stack.enter_async_context(serve_in_process(env)),
            stack.enter_async_context(serve_in_process(env)),
        )
        yield a, b


async def within_a_second(ws: ClientConnection, expected: str, since: float) -> dict[str, Any]:
    """The next message of type ``expected``, which must arrive less than one second
    after ``since`` (when the change was acknowledged on the other process)."""
    async with asyncio.timeout(max(0.0, since + 1.0 - time.monotonic())):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == expected:
                return message


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_an_op_on_process_a_reaches_a_websocket_on_process_b(
    two_processes: tuple[str, str], studio: Studio
):
    a, b = two_processes
    j = studio.journey.id
    ws_b = b.replace("http://", "ws://") + f"/api/v1/journeys/{j}/live"
    async with (
        httpx.AsyncClient(base_url=a, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b, timeout=10) as on_b,
        connect(ws_b, additional_headers=studio.auth(studio.viewer)) as watcher,
    ):
        hello = json.loads(await watcher.recv())
        assert hello["type"] == "hello" and hello["revision"] == 0

        joined = await on_a.post(
            f"/api/v1/journeys/{j}/presence", json={}, headers=studio.auth(studio.planner)
        )
        assert joined.status_code == 201
        event = await within_a_second(watcher, "presence.joined", time.monotonic())
        assert event["session"]["id"] == joined.json()["id"]

        locked = await on_a.post(
            f"/api/v1/journeys/{j}/locks",
            json={"nodes": ["wait"]},
            headers=studio.auth(studio.planner),
        )
        assert locked.status_code == 200
        event = await within_a_second(watcher, "lock.granted", time.monotonic())
        token = event["locks"][0]["fencing_token"]
        assert token == locked.json()["locks"][0]["fencing_token"]

        # The lock holds across processes: B refuses someone else's write at once.
        refused = await on_b.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json={
                "base_revision": 0,
                "ops": [{"op": "update_node", "id": "x", "node_id": "wait", "label": "B"}],
            },
            headers=studio.auth(studio.photographer),
        )
        assert refused.status_code == 423 and "Pia Planner" in refused.json()["detail"]

        applied = await on_a.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json={
                "base_revision": 0,
                "fences": {"node:wait": token},
                "ops": [{"op": "update_node", "id": "a1", "node_id": "wait", "label": "A"}],
            },
            headers=studio.auth(studio.planner),
        )
        assert applied.status_code == 200, applied.text
        event = await within_a_second(watcher, "ops.applied", time.monotonic())
        assert event["revision"] == 1 and event["ops"][0]["label"] == "A"

        beat = await on_a.post(
            f"/api/v1/journeys/{j}/presence/{joined.json()['id']}/heartbeat",
            json={"cursor": {"x": 1, "y": 2}},
            headers=studio.auth(studio.planner),
        )
        assert beat.status_code == 200
        event = await within_a_second(watcher, "presence.updated", time.monotonic())
        assert event["cursor"] == {"x": 1, "y": 2}

        released = await on_a.post(
            f"/api/v1/journeys/{j}/locks/release",
            json={"all": True},
            headers=studio.auth(studio.planner),
        )
        assert released.status_code == 200
        await within_a_second(watcher, "lock.released", time.monotonic())


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_the_scheduler_sweep_is_announced_through_redis(
    store: Store,
    registry: Any,
    redis_url: str,
    redis_namespace: str,
    studio: Studio,
    clock: TestClock,
    tmp_path: Path,
):
    from aisle.collab.sweeper import scheduler_sweeper

    settings = Settings(
        data_dir=str(tmp_path / "data"),
        database_url=store.db.url,
        redis_url=redis_url,
        queue_namespace=redis_namespace,
        secret_key=SECRET,
    )
    runtime = Runtime(store, registry, settings)
    locks = LockRepository(studio.org.id, store.db, store.clock)
    await locks.acquire(
        studio.journey.id,
        [LockTarget("node", "end")],
        mode="edit",
        holder=studio.planner.id,
        lease=timedelta(minutes=5),
    )
    clock.advance(minutes=5)
    async with (
        LiveHub.over_redis(redis_url, namespace=redis_namespace) as api_process,
        api_process.subscribe(studio.journey.id) as subscription,
        scheduler_sweeper(settings, runtime),
    ):
        report = await scheduler_pass(JobDeps.of(runtime))
        assert report.swept["collaboration"] == 1
        async with asyncio.timeout(5):
            async for item in subscription:
                assert isinstance(item, bytes)
                event = decode_event(item)
                assert isinstance(event, LockExpired)
                assert event.locks[0].target_id == "end"
                break
