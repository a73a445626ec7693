"""Executing action runs: claims, retries with backoff, dead runs, the send window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from aisle.clock import TestClock
from aisle.contracts.actions import (
    ActionContext,
    ActionExecutor,
    ActionResult,
    PermanentError,
    RetryableError,
)
from aisle.contracts.hooks import hookimpl
from aisle.jobs import JobDeps, drain, execute_run
from aisle.jobs.backoff import retry_delay
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.services.run_admin import cancel_run, retry_run
from aisle.storage.store import OrgScope


async def _org(runtime: Runtime, **settings: Any) -> OrgScope:
    org = await runtime.store.organizations.create(slug="s", name="S", settings=settings)
    return runtime.for_org(org.id)


async def _run(scope: OrgScope, executor: str = "webhook", key: str = "k1") -> str:
    run, _ = await scope.action_runs.create(
        executor=executor, config={}, idempotency_key=key, max_attempts=3
    )
    return run.id


async def test_retryable_failures_back_off_then_succeed(
    runtime: Runtime, clock: TestClock, recorder: Any
) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope)
    recorder.fail("webhook", RetryableError("503 from receiver"), times=2)
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.status == "failed" and run.attempts == 1
    assert run.last_error == "RetryableError: 503 from receiver"
    assert run.next_attempt_at is not None
    # Full jitter in [0, base * 2**0] with a 1 s floor.
    assert clock.now() + timedelta(seconds=1) <= run.next_attempt_at
    assert run.next_attempt_at <= clock.now() + timedelta(seconds=10)
    await drain(runtime)  # not due yet: nothing happens
    assert (await scope.action_runs.get(run_id)).attempts == 1
    clock.set(run.next_attempt_at)
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.status == "failed" and run.attempts == 2
    assert run.next_attempt_at is not None
    assert run.next_attempt_at <= clock.now() + timedelta(seconds=20)
    clock.set(run.next_attempt_at)
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.status == "succeeded" and run.attempts == 3
    assert run.result == {"recorded": "k1"}
    # Same idempotency key on every attempt; every attempt logged with its duration.
    assert recorder.calls == [("webhook", "k1", 1), ("webhook", "k1", 2), ("webhook", "k1", 3)]
    attempts = await scope.log.list(action_run_id=run_id, kind="action.attempt")
    assert [e.data["outcome"] for e in reversed(attempts)] == ["failed", "failed", "succeeded"]
    assert all("duration_ms" in e.data for e in attempts)
    assert "503 from receiver" in attempts[-1].data["error"]


async def test_retry_after_is_honoured(runtime: Runtime, clock: TestClock, recorder: Any) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope)
    recorder.fail("webhook", RetryableError("429", retry_after=120))
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.next_attempt_at == clock.now() + timedelta(seconds=120)


async def test_out_of_attempts_is_dead_and_can_be_retried_by_hand(
    runtime: Runtime, clock: TestClock, recorder: Any
) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope)
    recorder.fail("webhook", httpx.ConnectError("connection refused"), times=3)
    for _ in range(3):
        await drain(runtime)
        clock.advance(hours=1)
    run = await scope.action_runs.get(run_id)
    assert run.status == "dead" and run.attempts == 3 and run.finished_at is not None
    (dead,) = await scope.log.list(action_run_id=run_id, kind="action.dead")
    assert "out of attempts" in dead.message
    again = await retry_run(runtime, scope.org_id, run_id, actor="user:1")
    assert again.status == "pending" and again.max_attempts == 6
    await drain(runtime)
    assert (await scope.action_runs.get(run_id)).status == "succeeded"
    assert [e.actor for e in await scope.log.list(kind="action.retried")] == ["user:1"]


@pytest.mark.parametrize(
    ("error", "why"),
    [(PermanentError("bad address"), "not retryable"), (ValueError("bug"), "not retryable")],
)
async def test_permanent_and_unexpected_errors_are_dead_at_once(
    runtime: Runtime, recorder: Any, error: Exception, why: str
) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope)
    recorder.fail("webhook", error)
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.status == "dead" and run.attempts == 1
    assert type(error).__name__ in (run.last_error or "")


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    assert retry_delay(1, rng=lambda lo, hi: hi) == 10
    assert retry_delay(4, rng=lambda lo, hi: hi) == 80
    assert retry_delay(30, rng=lambda lo, hi: hi) == 3600
    assert retry_delay(3, rng=lambda lo, hi: lo) == 1.0  # the floor
    assert retry_delay(3, retry_after=42) == 42


class _Slow:
    @hookimpl
    def aisle_action_executors(self) -> list[ActionExecutor]:
        async def slow(ctx: ActionContext) -> ActionResult:
            await asyncio.sleep(5)
            return ActionResult()

        return [ActionExecutor(name="slow", execute=slow, timeout_seconds=0.05)]


async def test_timeouts_are_retried(runtime: Runtime) -> None:
    runtime.registry = load_registry(entry_points=False, extra_plugins=[("slow", _Slow())])
    scope = await _org(runtime)
    run_id = await _run(scope, executor="slow")
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.status == "failed" and run.last_error == "timed out after 0.05 s"


async def test_unknown_executor_is_dead_with_a_clear_error(runtime: Runtime) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope, executor="carrier_pigeon")
    await drain(runtime)
    run = await scope.action_runs.get(run_id)
    assert run.status == "dead"
    assert "no action executor named 'carrier_pigeon'" in (run.last_error or "")


async def test_send_window_defers_messages_without_using_attempts(
    runtime: Runtime, clock: TestClock, recorder: Any
) -> None:
    scope = await _org(runtime, send_window={"start": "08:00", "end": "20:00"})
    clock.set(datetime(2026, 1, 5, 21, 30, tzinfo=UTC))
    email = await _run(scope, executor="email", key="e")
    hook = await _run(scope, executor="webhook", key="w")  # not messaging: goes now
    await drain(runtime)
    deferred = await scope.action_runs.get(email)
    assert deferred.status == "pending" and deferred.attempts == 0
    assert deferred.next_attempt_at == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert (await scope.action_runs.get(hook)).status == "succeeded"
    assert [e.kind for e in await scope.log.list(action_run_id=email)] == ["action.deferred"]
    clock.set(datetime(2026, 1, 6, 8, 0, tzinfo=UTC))
    await drain(runtime)
    assert (await scope.action_runs.get(email)).status == "succeeded"
    assert recorder.keys("email") == ["e"]


async def test_cancelled_runs_do_not_execute(runtime: Runtime, recorder: Any) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope)
    await cancel_run(runtime, scope.org_id, run_id, actor="user:2")
    await drain(runtime)
    assert recorder.calls == []
    assert (await scope.action_runs.get(run_id)).status == "cancelled"


async def test_a_lost_worker_is_detected_by_its_lease_and_the_run_completes_once(
    runtime: Runtime, clock: TestClock, recorder: Any
) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope, executor="task")
    # A worker claims the run, creates the task, then dies before recording success.
    ghost = await runtime.store.outbox.claim(
        run_id, worker="ghost", lease_until=clock.now() + timedelta(seconds=30)
    )
    assert ghost is not None and ghost.attempts == 1
    from aisle.jobs.services import RunServices

    first_task = await RunServices(JobDeps.of(runtime), scope, ghost, None).create_task(
        title="t",
        assignee="client",
        due_at=None,
        step_id=None,
        required_approvals=1,
        details={},
    )
    await drain(runtime)  # lease still valid: nobody else may take the run
    assert (await scope.action_runs.get(run_id)).status == "running"
    clock.advance(seconds=31)
    report = await drain(runtime)
    assert report.expired_claims == 1
    run = await scope.action_runs.get(run_id)
    assert run.status == "succeeded" and run.attempts == 2
    assert run.result == {"task_id": first_task}  # the same task: idempotent per run
    assert len(await scope.tasks.list()) == 1
    (lost,) = await scope.log.list(kind="action.lost")
    assert "ghost" in lost.message
    # The ghost waking up cannot overwrite the outcome: its claim is fenced.
    assert not await runtime.store.outbox.finish(ghost, status="dead", error="late")
    assert (await scope.action_runs.get(run_id)).status == "succeeded"


async def test_two_deliveries_of_one_run_execute_it_once(runtime: Runtime, recorder: Any) -> None:
    scope = await _org(runtime)
    run_id = await _run(scope)
    outcomes = await asyncio.gather(
        *(execute_run(JobDeps.of(runtime), run_id, worker=f"w{i}") for i in range(4))
    )
    assert sorted(o.status for o in outcomes) == ["skipped", "skipped", "skipped", "succeeded"]
    assert recorder.calls == [("webhook", "k1", 1)]


async def test_executor_memory_is_scoped_to_org_and_executor(runtime: Runtime) -> None:
    a = await _org(runtime)
    b = runtime.for_org((await runtime.store.organizations.create(slug="b", name="B")).id)
    await a.executor_memory.remember("webhook", "gone:https://x", {"since": "now"})
    assert await a.executor_memory.recall("webhook", "gone:https://x") == {"since": "now"}
    assert await a.executor_memory.recall("email", "gone:https://x") is None
    assert await b.executor_memory.recall("webhook", "gone:https://x") is None
    await a.executor_memory.remember("webhook", "gone:https://x", None)
    assert await a.executor_memory.recall("webhook", "gone:https://x") is None
    assert msgspec  # keep the import for struct helpers used above
