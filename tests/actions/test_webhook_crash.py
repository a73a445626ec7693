"""A worker killed mid-delivery: every webhook still arrives, each run succeeds once.

Real processes: two ``aisle worker`` subprocesses on Redis and PostgreSQL, the
scheduler loop in the test process, a receiver on 127.0.0.1. The first worker is
SIGKILLed while its deliveries hang; the scheduler expires its claims and a second
worker delivers them again under the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aisle.jobs.processes import run_scheduler_async
from aisle.settings import Settings
from aisle.storage.database import Database
from aisle.storage.store import Store
from aisle.testing.http_server import HTTPReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WORKER = Path(__file__).with_name("webhook_worker.py")
RUNS = 12
IN_FLIGHT = 3  # the first worker's threads, all stuck on hanging deliveries when killed

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def receiver() -> Iterator[HTTPReceiver]:
    with HTTPReceiver() as server:
        yield server


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER)], env=env)


async def _until(predicate: object, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


@pytest.mark.parametrize(
    "db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_killed_worker_loses_no_webhook_and_duplicates_no_success(
    db: Database,
    settings: Settings,
    redis_url: str,
    redis_namespace: str,
    receiver: HTTPReceiver,
) -> None:
    environ = {
        "AISLE_DATABASE_URL": db.url,
        "AISLE_REDIS_URL": redis_url,
        "AISLE_SECRET_KEY": settings.secret_key,
        "AISLE_DATA_DIR": settings.data_dir,
        "AISLE_QUEUE_NAMESPACE": redis_namespace,
        "AISLE_WORKER_THREADS": str(IN_FLIGHT),
        "AISLE_LEASE_GRACE_SECONDS": "1",
        "AISLE_REDISPATCH_SECONDS": "1",
        "AISLE_BROKER_HEARTBEAT_SECONDS": "5",
        "AISLE_POLL_INTERVAL_SECONDS": "0.05",
        "AISLE_HTTP_ALLOW": "127.0.0.1/32",
        "AISLE_WEBHOOK_SECRET": SECRET,
    }
    worker_settings = Settings.from_env(environ, create_dirs=False)
    store = Store(db)  # the real clock, as the worker processes use
    org = await store.organizations.create(slug="crash", name="Crash Studio")
    scope = store.for_org(org.id)
    keys = [f"crash-{n}" for n in range(RUNS)]
    runs = {}
    for key in keys:
        run, _ = await scope.action_runs.create(
            executor="webhook",
            config={"url": f"{receiver.url}/hook", "event": "crash.test"},
            idempotency_key=key,
        )
        runs[run.id] = key
    receiver.hang(times=IN_FLIGHT)

    env = {**os.environ, **environ}
    stop = asyncio.Event()
    scheduler = asyncio.create_task(run_scheduler_async(worker_settings, stop=stop))
    first = _spawn(env)
    second: subprocess.Popen[bytes] | None = None
    try:

        async def stuck() -> bool:
            return len(receiver.requests) >= IN_FLIGHT

        await _until(stuck, f"{IN_FLIGHT} deliveries in flight at the first worker")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        in_flight = {r.headers["webhook-id"] for r in receiver.requests}
        assert len(in_flight) == IN_FLIGHT
        second = _spawn(env)

        async def all_succeeded() -> bool:
            counts = await scope.action_runs.count_by_status()
            return counts.get("succeeded", 0) == RUNS

        await _until(all_succeeded, "every run to succeed after the restart")
    finally:
        stop.set()
        await scheduler
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)

    arrived = [r.headers["webhook-id"] for r in receiver.requests]
    assert set(arrived) == set(keys)  # every webhook-id arrived
    for key in in_flight:  # the interrupted ones arrived again, under the same id
        assert arrived.count(key) == 2
    for run_id, key in runs.items():
        run = await scope.action_runs.get(run_id)
        assert run.status == "succeeded"
        assert run.idempotency_key == key
        assert run.attempts == (2 if key in in_flight else 1)
        successes = [
            entry
            for entry in await scope.log.list(kind="action.attempt", action_run_id=run_id)
            if entry.data.get("outcome") == "succeeded"
        ]
        assert len(successes) == 1, f"run {key} recorded {len(successes)} successes"
    lost = await scope.log.list(kind="action.lost")
    assert len(lost) == IN_FLIGHT
