"""Durable execution: the outbox relay, dramatiq workers and the wake-up scheduler.

Embedded mode (no ``AISLE_REDIS_URL``): :class:`EmbeddedJobs` inside ``aisle serve``.
Production: :func:`run_worker` (``aisle worker``) and :func:`run_scheduler`
(``aisle scheduler``). Tests: :func:`drain` with a test clock.
"""

from aisle.jobs.deps import JobDeps
from aisle.jobs.embedded import DrainReport, EmbeddedJobs, drain
from aisle.jobs.execute import Outcome, execute_run
from aisle.jobs.processes import run_scheduler, run_scheduler_async, run_worker
from aisle.jobs.relay import relay_once
from aisle.jobs.scheduler import scheduler_pass

__all__ = [
    "DrainReport",
    "EmbeddedJobs",
    "JobDeps",
    "Outcome",
    "drain",
    "execute_run",
    "relay_once",
    "run_scheduler",
    "run_scheduler_async",
    "run_worker",
    "scheduler_pass",
]
