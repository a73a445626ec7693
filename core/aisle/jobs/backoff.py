"""Retry timing: exponential backoff with full jitter, and what counts as retryable."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx

from aisle.contracts.actions import PermanentError, RetryableError

__all__ = ["is_retryable", "retry_delay"]

MIN_DELAY = 1.0
"""Floor of a jittered delay (seconds), so a retry never spins."""


def retry_delay(
    attempt: int,
    *,
    base: float = 10.0,
    cap: float = 3600.0,
    retry_after: float | None = None,
    rng: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**(attempt-1))].
    A remote's ``Retry-After`` wins when given (never shorter than asked).
    """
    if retry_after is not None and retry_after >= 0:
        return max(MIN_DELAY, float(retry_after))
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return max(MIN_DELAY, rng(0.0, ceiling))


def is_retryable(exc: BaseException, classify: Callable[[BaseException], bool] | None) -> bool:
    """Whether a failed attempt may be retried.

    ``RetryableError`` yes, ``PermanentError`` no, whatever the executor says; then the
    executor's own ``classify``; then timeouts and network errors yes, anything else no
    (a bug does not get better by retrying).
    """
    if isinstance(exc, RetryableError):
        return True
    if isinstance(exc, PermanentError):
        return False
    if classify is not None:
        return bool(classify(exc))
    return isinstance(exc, asyncio.TimeoutError | TimeoutError | httpx.TransportError)
