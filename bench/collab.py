"""Collaboration: lock operations per second, and live-stream fan-out latency.

``collab.locks`` / ``collab.locks.postgres`` — edit-lock acquire and release through
the lock service as the API calls it (the journey read and role check, the atomic
grant with its fencing token, the release, and both announcements on an in-process
hub), ``CONCURRENCY`` editors working at once on different nodes of one journey. One
operation is one acquire or one release.

``collab.fanout`` — one API process (``uvicorn --factory aisle.api:create_app``, Redis
hub) with ``CLIENTS`` WebSockets connected to one journey; another hub publishes a
stream message through Redis, as a second API process or the scheduler would, and
the bench times each client's copy from publish to receipt. The next message goes out
once every client has the previous one, so this is latency, not throughput.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aisle.api.context import Caller
from aisle.clock import SystemClock
from aisle.collab import CollabConfig, Collaboration, LiveHub, LockService, LockTarget
from aisle.collab.events import PresenceUpdated
from aisle.domain.journey import Graph, Step
from aisle.storage.database import connect
from aisle.storage.migrate import run_migrations
from aisle.storage.store import Store
from aisle.testing.servers import serve_in_process
from bench.registry import Result, bench
from bench.services import fresh_postgres

__all__ = ["CLIENTS", "CONCURRENCY", "fan_out", "lock_cycles"]

CONCURRENCY = 4
CLIENTS = 100
REDIS_URL = os.environ.get("AISLE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
SECRET_KEY = "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktYmU="


async def _studio(store: Store, nodes: int) -> tuple[str, str, str]:
    """An organization, a journey of ``nodes`` steps and a viewer token."""
    org = await store.organizations.create(slug="bench", name="Bench Studio")
    scope = store.for_org(org)
    graph = Graph(steps=tuple(Step(id=f"n{i}", type="wait") for i in range(nodes)))
    journey = await scope.journeys.create(name="Bench", draft=graph)
    user = await scope.users.create(email="viewer@bench.test", role="viewer", name="V")
    _, token = await scope.tokens.create(name="bench", role="viewer", user_id=user.id)
    return org.id, journey.id, token


async def lock_cycles(database_url: str, cycles: int) -> tuple[float, list[float]]:
    """Acquire and release ``cycles`` edit locks; returns (wall seconds, per-op seconds)."""
    db = await connect(database_url, pool_max=CONCURRENCY + 2)
    try:
        if not db.is_postgres:
            await run_migrations(db)
        store = Store(db, SystemClock())
        org_id, journey_id, _ = await _studio(store, CONCURRENCY * 8)
        async with LiveHub.in_process() as hub:
            collab = Collaboration(store, hub, CollabConfig())
            scope = store.for_org(org_id)
            samples: list[float] = []

            async def holder(index: int) -> None:
                user = await scope.users.create(
                    email=f"editor{index}@bench.test", role="editor", name=f"Holder {index}"
                )
                me = Caller(
                    organization_id=org_id, role="editor", token_id=f"t{index}", user_id=user.id
                )
                locks = LockService(collab, scope, me)
                for n in range(cycles // CONCURRENCY):
                    target = [LockTarget("node", f"n{index * 8 + n % 8}")]
                    began = time.perf_counter()
                    await locks.acquire(journey_id, target, mode="edit")
                    acquired = time.perf_counter()
                    await locks.release(journey_id, target)
                    samples.extend((acquired - began, time.perf_counter() - acquired))

            began = time.perf_counter()
            await asyncio.gather(*(holder(i) for i in range(CONCURRENCY)))
            return time.perf_counter() - began, samples
    finally:
        await db.close()


def _lock_result(name: str, elapsed: float, samples: list[float], note: str) -> Result:
    ordered = sorted(samples)
    return Result(
        name=name,
        n=len(samples),
        rate=len(samples) / elapsed,
        median=statistics.median(ordered),
        p99=ordered[round(0.99 * (len(ordered) - 1))],
        unit="op",
        note=note,
    )


@bench(
    "collab.locks",
    "edit-lock acquire/release operations per second, SQLite (embedded)",
)
def locks_sqlite(quick: bool) -> Result:
    cycles = 200 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        elapsed, samples = asyncio.run(lock_cycles(url, cycles))
    return _lock_result(
        "collab.locks", elapsed, samples, f"SQLite, {CONCURRENCY} holders, acquire+release"
    )


@bench(
    "collab.locks.postgres",
    "edit-lock acquire/release operations per second, PostgreSQL",
    needs=("postgres",),
)
def locks_postgres(quick: bool) -> Result:
    cycles = 200 if quick else 2000

    async def run() -> tuple[float, list[float]]:
        async with fresh_postgres("aisle_bench_collab_locks") as url:
            return await lock_cycles(url, cycles)

    elapsed, samples = asyncio.run(run())
    return _lock_result(
        "collab.locks.postgres",
        elapsed,
        samples,
        f"PostgreSQL, {CONCURRENCY} holders, acquire+release",
    )


async def fan_out(messages: int, clients: int = CLIENTS) -> tuple[float, list[float]]:
    """Publish ``messages`` through Redis to ``clients`` WebSockets of one API process;
    returns (wall seconds, per-delivery latencies in seconds)."""
    from websockets.asyncio.client import connect as ws_connect

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = await connect(url)
        await run_migrations(db)
        _, journey_id, token = await _studio(Store(db, SystemClock()), 1)
        await db.close()
        # Channels of its own, so a live Aisle on the same Redis hears none of this.
        namespace = f"aisle-bench-{uuid.uuid4().hex[:8]}"
        env = {
            "AISLE_DATABASE_URL": url,
            "AISLE_REDIS_URL": REDIS_URL,
            "AISLE_QUEUE_NAMESPACE": namespace,
            "AISLE_SECRET_KEY": SECRET_KEY,
            "AISLE_DATA_DIR": tmp,
            "AISLE_RATE_LIMIT": "0/second",
        }
        async with (
            serve_in_process(env) as base,
            LiveHub.over_redis(REDIS_URL, namespace=namespace) as publisher,
        ):
            ws_url = base.replace("http://", "ws://") + f"/api/v1/journeys/{journey_id}/live"
            headers = {"Authorization": f"Bearer {token}"}
            sockets = [await ws_connect(ws_url, additional_headers=headers) for _ in range(clients)]
            try:
                for socket in sockets:
                    hello = json.loads(await socket.recv())
                    assert hello["type"] == "hello"
                latencies: list[float] = []

                async def receive(socket: object, sent_ns: int) -> float:
                    message = json.loads(await socket.recv())  # type: ignore[attr-defined]
                    assert message["cursor"]["t"] == sent_ns
                    return (time.perf_counter_ns() - sent_ns) / 1e9

                began = time.perf_counter()
                for _ in range(messages):
                    sent_ns = time.perf_counter_ns()
                    waiting = [asyncio.create_task(receive(s, sent_ns)) for s in sockets]
                    await publisher.publish(
                        PresenceUpdated(
                            journey_id=journey_id,
                            at=datetime.now(UTC),
                            session_id="bench",
                            user_id="bench",
                            color="#000000",
                            cursor={"t": sent_ns},
                        )
                    )
                    async with asyncio.timeout(30):
                        latencies += await asyncio.gather(*waiting)
                elapsed = time.perf_counter() - began
            finally:
                await asyncio.gather(*(s.close() for s in sockets))
    return elapsed, latencies


@bench(
    "collab.fanout",
    f"live-stream fan-out latency to {CLIENTS} WebSocket clients of one API process "
    "(message published through Redis)",
    needs=("redis",),
)
def fanout(quick: bool) -> Result:
    messages = 20 if quick else 200
    elapsed, latencies = asyncio.run(fan_out(messages))
    ordered = sorted(latencies)
    return Result(
        name="collab.fanout",
        n=len(ordered),
        rate=len(ordered) / elapsed,
        median=statistics.median(ordered),
        p99=ordered[round(0.99 * (len(ordered) - 1))],
        unit="delivery",
        note=f"{CLIENTS} clients, Redis pub/sub, one uvicorn process",
    )
