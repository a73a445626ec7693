"""A worker process SIGKILLed mid-run: every action run still completes, and no
idempotency key has its effect applied twice (real Redis, real worker processes)."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aisle.jobs import run_scheduler_async
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage import Store

WORKER = Path(__file__).with_name("probe_worker.py")
RUNS = 6


class Receiver:
    """A local HTTP endpoint that applies each idempotency key's effect once, as an
    idempotent API would, and remembers every request it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []  # (path, key, attempt)
        self.applied: dict[str, int] = {}  # key -> times the effect was applied
        self.lock = threading.Lock()

    def begins(self) -> list[str]:
        with self.lock:
            return [key for path, key, _ in self.requests if path == "/begin"]

    def commits(self) -> list[str]:
        with self.lock:
            return [key for path, key, _ in self.requests if path == "/commit"]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            key = self.headers.get("Idempotency-Key", "")
            with state.lock:
                state.requests.append((self.path, key, self.headers.get("X-Attempt", "")))
                if self.path == "/commit" and key not in state.applied:
                    state.applied[key] = 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _until(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Poll ``condition`` (sync or async) until it is true, failing after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.1)


async def _start_worker(settings: Settings, probe_url: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "AISLE_DATABASE_URL": settings.database_url,
        "AISLE_REDIS_URL": settings.redis_url or "",
        "AISLE_SECRET_KEY": settings.secret_key,
        "AISLE_DATA_DIR": settings.data_dir,
        "AISLE_QUEUE_NAMESPACE": settings.queue_namespace,
        "AISLE_LEASE_GRACE_SECONDS": str(settings.lease_grace_seconds),
        "AISLE_BROKER_HEARTBEAT_SECONDS": str(settings.broker_heartbeat_seconds),
        "AISLE_WORKER_THREADS": "2",
        "PROBE_URL": probe_url,
        "PROBE_SECONDS": "1.0",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.redis
async def test_sigkilled_worker_loses_no_run_and_duplicates_no_effect(
    store: Store,
    settings: Settings,
    redis_url: str,
    redis_namespace: str,
    receiver: tuple[Receiver, str],
) -> None:
    state, url = receiver
    settings = settings.with_changes(
        redis_url=redis_url,
        queue_namespace=redis_namespace,
        lease_grace_seconds=1.0,  # lease = executor timeout (5 s) + 1 s
        broker_heartbeat_seconds=2.0,
        redispatch_seconds=3.0,  # messages prefetched by the dead worker are re-sent
        poll_interval_seconds=0.1,
    )
    org = await store.organizations.create(slug="s", name="S")
    scope = store.for_org(org.id)
    keys = [f"probe-{i}" for i in range(RUNS)]
    for key in keys:
        await scope.action_runs.create(
            executor="probe", config={}, idempotency_key=key, max_attempts=5
        )

    stop = asyncio.Event()
    scheduler = asyncio.create_task(
        run_scheduler_async(settings, registry=load_registry(entry_points=False), stop=stop)
    )
    first = await _start_worker(settings, url)
    second = None
    try:
        await _until(state.begins, 30, "the first worker to start a run")
        first.send_signal(signal.SIGKILL)
        await first.wait()
        in_flight = set(state.begins()) - set(state.commits())
        assert in_flight, "the worker was killed between runs, not during one"

        second = await _start_worker(settings, url)

        async def all_done() -> bool:
            runs = await scope.action_runs.list(limit=100)
            return all(r.status == "succeeded" for r in runs)

        await _until(all_done, 60, "every run to succeed after the kill")
    finally:
        stop.set()
        await scheduler
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()

    runs = await scope.action_runs.list(limit=100)
    assert sorted(r.idempotency_key for r in runs) == sorted(keys)  # one run per key
    assert all(r.status == "succeeded" for r in runs)
    # Every key's effect arrived, and was applied exactly once.
    assert state.applied == dict.fromkeys(keys, 1)
    # The runs cut short were executed again (same key), by a later attempt.
    for key in in_flight:
        assert state.begins().count(key) >= 2
        run = next(r for r in runs if r.idempotency_key == key)
        assert run.attempts >= 2
        lost = await scope.log.list(action_run_id=run.id, kind="action.lost")
        assert lost, f"no action.lost entry for {key}"
