"""``aisle worker`` and ``aisle scheduler``: the production processes around dramatiq.

:func:`run_worker` runs a dramatiq worker (``settings.worker_threads`` threads sharing
one asyncio loop) executing action runs and CRM sync runs. :func:`run_scheduler` runs
the loop that expires lost claims, fires wake-ups, recovers stranded events, relays due
runs to Redis and sweeps CRM sync runs (lost ones taken back, due ones sent). Both
block until SIGTERM/SIGINT (or ``stop`` is set) and shut down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware.asyncio import AsyncIO

from aisle import bounded, metrics
from aisle.clock import Clock
from aisle.contracts.registry import Registry
from aisle.crm.deps import CRMDeps
from aisle.crm.runs import execute_sync_run
from aisle.jobs.broker import QUEUE_NAME, build_broker, declare_actor
from aisle.jobs.crm_sync import CRM_QUEUE_NAME, crm_sync_jobs, declare_crm_actor
from aisle.jobs.deps import JobDeps
from aisle.jobs.execute import execute_run, worker_name
from aisle.jobs.relay import relay_once
from aisle.jobs.scheduler import scheduler_pass
from aisle.jobs.shutdown import cancel_other_tasks, shutdown_grace
from aisle.plugins.manager import load_registry
from aisle.settings import Settings

__all__ = ["run_scheduler", "run_scheduler_async", "run_worker"]

log = logging.getLogger(__name__)


class _WorkerRuntime:
    """Opens the store lazily inside dramatiq's event loop thread (asyncpg pools are
    bound to the loop that created them)."""

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.name = worker_name()
        self._deps: JobDeps | None = None
        self._crm: CRMDeps | None = None
        self._lock: asyncio.Lock | None = None

    async def deps(self) -> JobDeps:
        if self._deps is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._deps is None:
                    from aisle.runtime.service import Runtime
                    from aisle.storage.store import Store

                    store = await Store.open(self.settings, migrate=False)
                    runtime = Runtime(store, self.registry, self.settings)
                    self._crm = CRMDeps.of(runtime)
                    self._deps = JobDeps.of(runtime)
        return self._deps

    async def execute(self, run_id: str) -> None:
        await execute_run(await self.deps(), run_id, worker=self.name)

    async def execute_sync(self, org_id: str, run_id: str) -> None:
        await self.deps()
        assert self._crm is not None  # set with the deps
        await execute_sync_run(self._crm, org_id, run_id, worker=self.name)

    async def close(self) -> None:
        if self._deps is not None:
            await self._deps.store.close()
            self._deps = None
            self._crm = None


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


def run_worker(
    settings: Settings,
    *,
    registry: Registry | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Execute action runs and CRM sync runs from Redis until stopped (``aisle worker``)."""
    registry = registry if registry is not None else load_registry()
    stop = stop if stop is not None else threading.Event()
    _stop_on_signals(stop)
    broker = build_broker(settings)
    holder = _WorkerRuntime(settings, registry)
    declare_actor(broker, holder.execute)
    declare_crm_actor(broker, holder.execute_sync)
    grace = shutdown_grace(settings)
    # After AsyncIO in the list, so ahead of it at shutdown (after-hooks run in reverse):
    # its after_worker_shutdown stops the loop the store lives on.
    broker.add_middleware(_LeftoversMiddleware(holder), after=AsyncIO)
    worker = dramatiq.Worker(broker, worker_threads=settings.worker_threads)
    bounded.hold()  # the template and condition workers stop with this process's work
    worker.start()
    log.info("aisle worker %s started (%d threads)", holder.name, settings.worker_threads)
    try:
        stop.wait()
    finally:
        log.info("aisle worker %s stopping: current attempts get %g s", holder.name, grace)
        # Worker threads finish their current message; unstarted prefetched ones go back
        # to Redis; then the middleware cancels what is left and closes the store.
        worker.stop(timeout=int(grace * 1000))
        broker.close()
        bounded.release()
        log.info("aisle worker %s stopped", holder.name)


class _LeftoversMiddleware(dramatiq.Middleware):
    """Past the grace, cancel the attempts still going (their claims are given back) and
    close the store, on dramatiq's event loop before it stops."""

    def __init__(self, holder: _WorkerRuntime) -> None:
        self.holder = holder

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from dramatiq.asyncio import get_event_loop_thread

        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            return
        try:
            left = loop_thread.run_coroutine(cancel_other_tasks())
            if left:
                log.warning("aisle worker: %d attempt(s) cancelled past the grace", left)
            loop_thread.run_coroutine(self.holder.close())
        except Exception:
            log.exception("aisle worker: clean-up at shutdown failed")


async def run_scheduler_async(
    settings: Settings,
    *,
    registry: Registry | None = None,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
) -> None:
    """The scheduler loop in the current event loop, until ``stop`` is set."""
    from aisle.collab.sweeper import scheduler_sweeper
    from aisle.runtime.service import Runtime
    from aisle.storage.store import Store

    registry = registry if registry is not None else load_registry()
    stop = stop if stop is not None else asyncio.Event()
    broker = build_broker(settings)
    actor = declare_actor(broker, _sent_only)
    crm_actor = declare_crm_actor(broker, _sync_sent_only)
    store = await Store.open(settings, clock=clock)
    runtime = Runtime(store, registry, settings)
    deps = JobDeps.of(runtime)
    log.info("aisle scheduler started")
    try:
        # Expired locks and silent presence sessions are swept each pass and announced
        # to the API processes' live streams through Redis; CRM sync runs whose worker
        # died are taken back and queued ones sent to the workers.
        async with (
            bounded.held(),
            scheduler_sweeper(settings, runtime),
            crm_sync_jobs(
                runtime, worker="scheduler", dispatch=lambda o, r: _send_sync(crm_actor, o, r)
            ),
        ):
            while not stop.is_set():
                busy = False
                try:
                    passed = await scheduler_pass(deps)
                    sent = await relay_once(deps, lambda run_id: _send(actor, run_id))
                    await asyncio.to_thread(_measure_queues, broker)
                    busy = passed.busy or sent > 0
                except Exception:
                    log.exception("scheduler pass failed")
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=settings.poll_interval_seconds)
    finally:
        await store.close()
        broker.close()
        log.info("aisle scheduler stopped")


def run_scheduler(settings: Settings, *, registry: Registry | None = None) -> None:
    """Run the scheduler until SIGTERM/SIGINT (``aisle scheduler``)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(run_scheduler_async(settings, registry=registry, stop=stop))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        # The pass under way finishes (each of its steps is a short transaction); one
        # held past the grace by a database that stopped answering is cancelled.
        done, _ = await asyncio.wait({running}, timeout=shutdown_grace(settings))
        if not done:
            log.warning("aisle scheduler: the pass under way was cancelled past the grace")
            running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    asyncio.run(main())


async def _sent_only(run_id: str) -> None:
    raise RuntimeError("the scheduler only sends action runs; `aisle worker` executes them")


async def _sync_sent_only(org_id: str, run_id: str) -> None:
    raise RuntimeError("the scheduler only sends CRM sync runs; `aisle worker` executes them")


def _send_sync(actor: dramatiq.Actor[Any, Any], org_id: str, run_id: str) -> None:
    actor.send(org_id, run_id)


def _measure_queues(broker: RedisBroker) -> None:
    for queue in (QUEUE_NAME, CRM_QUEUE_NAME):
        waiting = broker.client.llen(f"{broker.namespace}:{queue}")
        metrics.QUEUE_DEPTH.labels(queue).set(waiting)


def _send(actor: dramatiq.Actor[Any, Any], run_id: str) -> None:
    actor.send(run_id)
