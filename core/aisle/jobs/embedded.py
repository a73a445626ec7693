"""Embedded mode: relay, workers and scheduler as asyncio tasks inside ``aisle serve``.

No Redis: the relay hands run ids straight to :func:`~aisle.jobs.execute.execute_run`
(the same function dramatiq workers call), bounded by ``settings.worker_threads``
concurrent runs, and CRM sync runs execute as tasks of the same process
(:func:`~aisle.jobs.crm_sync.crm_sync_jobs`). :func:`drain` runs everything due until
nothing is, for tests that drive a :class:`~aisle.clock.TestClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aisle.jobs.crm_sync import crm_sync_jobs
from aisle.jobs.deps import JobDeps
from aisle.jobs.execute import Outcome, execute_run, worker_name
from aisle.jobs.relay import relay_once
from aisle.jobs.scheduler import scheduler_pass

if TYPE_CHECKING:
    from aisle.runtime.service import Runtime

__all__ = ["DrainReport", "EmbeddedJobs", "drain"]

log = logging.getLogger(__name__)


@dataclass
class DrainReport:
    """What :func:`drain` did, summed over its rounds."""

    rounds: int = 0
    wakeups: int = 0
    events: int = 0
    expired_claims: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


async def drain(runtime: Runtime, *, max_rounds: int = 100, worker: str = "drain") -> DrainReport:
    """Fire wake-ups, recover events, expire claims and execute due runs, repeatedly,
    until a round finds nothing to do at the clock's current time.

    Runs execute one at a time, in the caller's task, through ``execute_run``.
    """
    deps = JobDeps.of(runtime)
    report = DrainReport()
    for _ in range(max_rounds):
        report.rounds += 1
        passed = await scheduler_pass(deps, event_grace=0.0)
        report.wakeups += passed.wakeups
        report.events += passed.events
        report.expired_claims += passed.expired_claims
        ids: list[str] = []
        await relay_once(deps, ids.append)
        for run_id in ids:
            report.outcomes.append(await execute_run(deps, run_id, worker=worker))
        if not passed.busy and not ids:
            return report
    raise RuntimeError(
        f"drain: still busy after {max_rounds} rounds (a journey looping without a wait?)"
    )


class EmbeddedJobs:
    """The background loop of ``aisle serve`` when ``AISLE_REDIS_URL`` is not set.

    ``start()`` and ``stop()`` from the app's lifespan; ``notify()`` (wired as the
    runtime's ``on_work``) wakes the loop at once when a transaction queued work.
    """

    def __init__(self, deps: JobDeps) -> None:
        self.deps = deps
        self.worker = worker_name()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[Outcome]] = set()
        self._slots = asyncio.Semaphore(max(1, deps.settings.worker_threads))
        self._stopping = False
        self._crm = contextlib.AsyncExitStack()

    def notify(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            if self.deps.runtime.on_work is None:
                self.deps.runtime.on_work = self.notify
            await self._crm.enter_async_context(
                crm_sync_jobs(self.deps.runtime, worker=self.worker)
            )
            self._task = asyncio.create_task(self._loop(), name="aisle-embedded-jobs")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop the loop and wait (up to ``grace`` seconds) for its pass and the runs in
        progress to finish.

        Whatever is still going after that is cancelled; claims of cancelled runs expire
        and they are retried on the next start, like after a crash.
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            # Not cancelled at once: a cancellation landing between piccolo taking a pool
            # connection and its BEGIN never gives the connection back, and closing the
            # pool then waits for it. The loop sees ``_stopping`` after its pass.
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # Sync runs still going after their grace stop where they are; their stored
        # position resumes them on the next start.
        await self._crm.aclose()

    async def run_once(self) -> bool:
        """One scheduler pass and one relay batch; True when there was work."""
        passed = await scheduler_pass(self.deps)
        handed = await relay_once(self.deps, self._spawn)
        return passed.busy or handed > 0

    async def _spawn(self, run_id: str) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._execute(run_id), name=f"aisle-run-{run_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _execute(self, run_id: str) -> Outcome:
        try:
            return await execute_run(self.deps, run_id, worker=self.worker)
        except Exception:
            log.exception("executing action run %s failed", run_id)
            raise
        finally:
            self._slots.release()
            self._wake.set()  # a finished run may have queued more work

    async def _loop(self) -> None:
        interval = self.deps.settings.poll_interval_seconds
        while not self._stopping:
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("embedded jobs pass failed; retrying in %s s", interval)
                busy = False
            if busy:
                continue
            self._wake.clear()
            if self._stopping:  # stop() woke us before the clear
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
