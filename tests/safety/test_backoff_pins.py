"""Pins on retry timing (``jobs/backoff.py``): a remote's ``Retry-After`` wins over the
jittered backoff, ``0`` included (retry as soon as the floor allows, not in minutes);
without one, full jitter under the exponential ceiling; what is retryable at all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from aisle.clock import TestClock
from aisle.contracts.actions import PermanentError, RetryableError
from aisle.jobs import drain
from aisle.jobs.backoff import MIN_DELAY, is_retryable, retry_delay
from aisle.runtime import Runtime
from aisle.settings import Settings


def _highest(low: float, high: float) -> float:
    return high


def _lowest(low: float, high: float) -> float:
    return low


@pytest.mark.parametrize("attempt", [1, 2, 5, 12])
def test_retry_after_zero_is_honoured_not_ignored(attempt: int) -> None:
    assert retry_delay(attempt, retry_after=0, rng=_highest) == MIN_DELAY
    assert retry_delay(attempt, retry_after=0.0, rng=_highest) == MIN_DELAY


@pytest.mark.parametrize(
    ("asked", "waited"), [(0.5, MIN_DELAY), (1.0, 1.0), (2.5, 2.5), (7200, 7200)]
)
def test_retry_after_is_never_shortened_and_wins_over_the_cap(asked: float, waited: float) -> None:
    assert retry_delay(3, base=10, cap=60, retry_after=asked, rng=_highest) == waited


def test_a_negative_retry_after_is_not_a_delay() -> None:
    assert retry_delay(2, base=10, retry_after=-5, rng=_highest) == 20


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 10), (2, 20), (3, 40), (4, 80), (7, 600), (40, 600), (0, 10)]
)
def test_full_jitter_spans_zero_to_the_exponential_ceiling(attempt: int, ceiling: float) -> None:
    seen: list[tuple[float, float]] = []

    def rng(low: float, high: float) -> float:
        seen.append((low, high))
        return high

    assert retry_delay(attempt, base=10, cap=600, rng=rng) == ceiling
    assert seen == [(0.0, ceiling)]
    assert retry_delay(attempt, base=10, cap=600, rng=_lowest) == MIN_DELAY


def test_the_default_backoff_starts_at_ten_seconds_and_stops_at_an_hour() -> None:
    assert retry_delay(1, rng=_highest) == 10
    assert retry_delay(30, rng=_highest) == 3600


@pytest.mark.parametrize(
    ("error", "classify", "retried"),
    [
        (RetryableError("503"), lambda e: False, True),
        (PermanentError("410"), lambda e: True, False),
        (ValueError("x"), lambda e: True, True),
        (ValueError("x"), lambda e: False, False),
        (ValueError("x"), None, False),
        (TimeoutError(), None, True),
        (TimeoutError(), None, True),
        (httpx.ConnectError("refused"), None, True),
        (httpx.ReadTimeout("slow"), None, True),
        (httpx.HTTPStatusError("500", request=None, response=None), None, False),  # type: ignore[arg-type]
    ],
)
def test_what_is_retried(error: BaseException, classify: Any, retried: bool) -> None:
    assert is_retryable(error, classify) is retried


async def test_a_run_told_retry_after_zero_is_due_again_after_the_floor(
    store: Any, jobs_registry: Any, settings: Settings, clock: TestClock, recorder: Any
) -> None:
    # A huge base: a run that ignored Retry-After: 0 would wait minutes, not a second.
    runtime = Runtime(store, jobs_registry, settings.with_changes(retry_base_seconds=100_000.0))
    org = await store.organizations.create(slug="s", name="S")
    scope = runtime.for_org(org.id)
    run, _ = await scope.action_runs.create(
        executor="webhook", config={}, idempotency_key="k", max_attempts=3
    )
    recorder.fail("webhook", RetryableError("503, come back now", retry_after=0))
    await drain(runtime)
    failed = await scope.action_runs.get(run.id)
    assert failed.status == "failed"
    assert failed.next_attempt_at == clock.now() + timedelta(seconds=MIN_DELAY)
    clock.advance(seconds=MIN_DELAY)
    await drain(runtime)
    assert (await scope.action_runs.get(run.id)).status == "succeeded"


def test_the_executor_classifies_the_error_itself() -> None:
    seen: list[BaseException] = []

    def classify(error: BaseException) -> bool:
        seen.append(error)
        return isinstance(error, LookupError)

    error = KeyError("rate")
    assert is_retryable(error, classify) is True
    assert seen == [error]
