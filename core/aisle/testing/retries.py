"""Whether the worker retries an error an executor raised (the suite's view of it)."""

from __future__ import annotations

import httpx

from aisle.jobs.contracts import RetryableError
from aisle.plugins.registrations import ActionExecutor

__all__ = ["worker_retries"]


def worker_retries(executor: ActionExecutor, error: BaseException) -> bool:
    """True when a worker would retry a run that raised ``error``.

    ``ActionExecutor.classify`` decides when the executor has one; otherwise
    :class:`~aisle.RetryableError`, timeouts and network errors are retried and
    anything else stops the run.
    """
    if executor.classify is not None:
        return executor.classify(error)
    return isinstance(error, RetryableError | TimeoutError | httpx.TransportError)
