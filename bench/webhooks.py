"""Webhook actions delivered per second: PostgreSQL outbox → Redis → two worker processes.

The production path end to end: action runs waiting in the outbox are relayed to
Redis by the scheduler loop (run here, in process), executed by two ``aisle worker``
processes (dramatiq, the worker's default threads), signed per Standard Webhooks and
POSTed to a local receiver on 127.0.0.1, then marked succeeded in the database. The
rate is runs succeeded divided by the time from the first relay to the last success.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aisle.settings import Settings
from aisle.testing.http_server import HTTPReceiver
from bench.registry import Result, bench
from bench.services import fresh_postgres

__all__ = ["deliver_webhooks", "webhook_delivery"]

# A unique queue namespace keeps runs apart (and from a live Aisle on the same Redis).
REDIS_URL = os.environ.get("AISLE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_KEY = "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktYmU="
WORKERS = 2

_WORKER = (
    "from aisle.jobs import run_worker; from aisle.settings import Settings; "
    "run_worker(Settings.from_env())"
)


@contextmanager
def _workers(env: dict[str, str], count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [
        subprocess.Popen([sys.executable, "-c", _WORKER], env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def deliver_webhooks(runs: int, *, workers: int = WORKERS) -> tuple[float, int]:
    """Deliver ``runs`` webhook action runs; returns (seconds, requests the receiver got)."""
    async with fresh_postgres("aisle_bench_webhooks") as url:
        return await _deliver(url, runs, workers)


async def _deliver(url: str, runs: int, workers: int) -> tuple[float, int]:
    import redis

    from aisle.jobs import run_scheduler_async
    from aisle.storage.store import Store

    namespace = f"aisle-bench-{uuid.uuid4().hex[:8]}"
    environ = {
        "AISLE_DATABASE_URL": url,
        "AISLE_REDIS_URL": REDIS_URL,
        "AISLE_SECRET_KEY": SECRET_KEY,
        "AISLE_QUEUE_NAMESPACE": namespace,
        "AISLE_HTTP_ALLOW": "127.0.0.1/32",
        "AISLE_POLL_INTERVAL_SECONDS": "0.05",
        "AISLE_BATCH_SIZE": "500",
        "AISLE_WEBHOOK_SECRET": SECRET,
    }
    settings = Settings.from_env(environ, create_dirs=False)
    store = await Store.open(settings, migrate=False)
    try:
        with HTTPReceiver() as receiver:
            org = await store.organizations.create(slug="bench", name="Bench Studio")
            scope = store.for_org(org.id)
            for n in range(runs):
                await scope.action_runs.create(
                    executor="webhook",
                    config={"url": f"{receiver.url}/hook", "event": "bench.delivery"},
                    idempotency_key=f"bench-{n}",
                )
            with _workers({**os.environ, **environ}, workers):
                await asyncio.sleep(2.0)  # let the workers import and connect
                stop = asyncio.Event()
                began = time.perf_counter()
                scheduler = asyncio.create_task(run_scheduler_async(settings, stop=stop))
                try:
                    await _until_delivered(scope, runs, began + 600)
                finally:
                    stop.set()
                    await scheduler
                elapsed = time.perf_counter() - began
            received = len(receiver.requests)
    finally:
        await store.close()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
        client.close()
    return elapsed, received


async def _until_delivered(scope: Any, runs: int, deadline: float) -> None:
    while time.perf_counter() < deadline:
        counts = await scope.action_runs.count_by_status()
        if counts.get("succeeded", 0) >= runs:
            return
        if counts.get("dead", 0):
            raise RuntimeError(f"bench webhook runs died: {counts}")
        await asyncio.sleep(0.02)
    raise RuntimeError("bench webhook runs did not finish in 10 minutes")


@bench(
    "webhooks.delivered",
    "webhook actions delivered per second: outbox → Redis → 2 worker processes → receiver",
    needs=("postgres", "redis"),
)
def webhook_delivery(quick: bool) -> Result:
    runs = 200 if quick else 2000
    elapsed, received = asyncio.run(deliver_webhooks(runs))
    return Result(
        name="webhooks.delivered",
        n=runs,
        rate=runs / elapsed,
        unit="webhook",
        note=f"{WORKERS} workers, PostgreSQL + Redis, {received} requests received",
    )
