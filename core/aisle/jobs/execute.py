"""Executing one action run: the single code path every worker (Redis or embedded) takes.

claim (atomic, with a lease) → build the ``ActionContext`` → run the executor under its
timeout → record the outcome, fenced on the claim. Every attempt is logged with its
duration and error. A worker that dies mid-run leaves the claim to expire; the
scheduler then makes the run due again, and the idempotency key keeps the effect single.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from aisle import logs, metrics
from aisle.contracts.actions import ActionContext, ActionExecutor, ActionResult, PermanentError
from aisle.contracts.log import LogKind
from aisle.contracts.runs import ActionRunStatus
from aisle.domain.action_run import ActionRun
from aisle.domain.contact import Contact
from aisle.domain.organization import Organization, studio_view
from aisle.jobs.backoff import is_retryable, retry_delay
from aisle.jobs.deps import JobDeps
from aisle.jobs.services import RunServices
from aisle.storage.automation_log import run_refs
from aisle.storage.store import OrgScope

__all__ = ["Outcome", "execute_run", "send_window_opens", "worker_name"]

log = logging.getLogger(__name__)


def worker_name() -> str:
    """A name for this worker that is unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery of a run id."""

    run_id: str
    status: str
    """``succeeded``, ``failed`` (retry scheduled), ``dead``, ``deferred`` (send window),
    or ``skipped`` (not due, already taken or finished: a duplicate message)."""
    attempt: int = 0
    next_attempt_at: datetime | None = None


async def execute_run(deps: JobDeps, run_id: str, *, worker: str) -> Outcome:
    """Claim and execute one run, then record the outcome. Safe to call twice."""
    store = deps.store
    clock = store.clock
    run = await store.outbox.get(run_id)
    if run is None or run.status not in (ActionRunStatus.PENDING, ActionRunStatus.FAILED):
        return Outcome(run_id, "skipped")
    now = clock.now()
    if run.next_attempt_at is not None and run.next_attempt_at > now:
        return Outcome(run_id, "skipped")
    logs.bind(
        organization=run.organization_id,
        journey=run.journey_id,
        enrollment=run.enrollment_id,
        run=run.id,
    )
    executor = deps.registry.action_executors.get(run.executor)
    org = await deps.runtime.organization(run.organization_id)
    scope = deps.for_org(run.organization_id)
    if executor is not None and executor.messaging:
        opens = send_window_opens(org, now)
        if opens is not None and opens > now:
            if await store.outbox.defer(run.id, opens):
                await scope.log.append(
                    LogKind.ACTION_DEFERRED,
                    message=f"{run.executor} held until the send window opens at {opens}",
                    **run_refs(run),
                    data={"until": opens.isoformat()},
                )
            metrics.ACTION_RUNS.labels(run.executor, "deferred").inc()
            return Outcome(run_id, "deferred", next_attempt_at=opens)
    timeout = executor.timeout_seconds if executor is not None else 0.0
    lease_until = now + timedelta(seconds=timeout + deps.settings.lease_grace_seconds)
    claimed = await store.outbox.claim(run.id, worker=worker, lease_until=lease_until)
    if claimed is None:
        return Outcome(run_id, "skipped")
    if executor is None:
        return await _record(
            deps,
            scope,
            claimed,
            PermanentError(
                f"no action executor named {claimed.executor!r} is installed (see `aisle plugins`)"
            ),
            None,
            0.0,
        )
    started = time.monotonic()
    try:
        context = await _context(deps, scope, claimed, executor, org)
        result = await asyncio.wait_for(executor.execute(context), timeout=executor.timeout_seconds)
        if not isinstance(result, ActionResult):
            raise PermanentError(
                f"executor {executor.name!r} returned {type(result).__name__}, "
                "expected ActionResult"
            )
    except asyncio.CancelledError:
        # The worker is shutting down past its grace: the claim is given back so another
        # worker takes the run at once instead of after the lease (shielded, as this task
        # is being cancelled; if the database is gone too, the lease expires instead).
        with contextlib.suppress(Exception):
            await asyncio.shield(store.outbox.release(claimed))
        raise
    except BaseException as exc:  # every failure is classified and recorded
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return await _record(deps, scope, claimed, exc, executor, time.monotonic() - started)
    return await _record(deps, scope, claimed, None, executor, time.monotonic() - started, result)


async def _context(
    deps: JobDeps, scope: OrgScope, run: ActionRun, executor: ActionExecutor, org: Organization
) -> ActionContext:
    try:
        config = msgspec.convert(run.config, executor.config, strict=False)
    except msgspec.ValidationError as exc:
        raise PermanentError(f"config of {executor.name!r} action is invalid: {exc}") from None
    # Read once per attempt: the context's view and the services' CRM lookups share it.
    contact: Contact | None = None
    if run.contact_id is not None:
        contact = await scope.contacts.find(run.contact_id)
    return ActionContext(
        run_id=run.id,
        organization_id=run.organization_id,
        idempotency_key=run.idempotency_key,
        attempt=run.attempts,
        config=config,
        contact=contact.activation() if contact is not None else {},
        studio=studio_view(org),
        now=deps.clock.now(),
        services=RunServices(deps, scope, run, contact),
        step_id=run.step_id,
        enrollment_id=run.enrollment_id,
    )


async def _record(
    deps: JobDeps,
    scope: OrgScope,
    run: ActionRun,
    error: BaseException | None,
    executor: ActionExecutor | None,
    seconds: float,
    result: ActionResult | None = None,
) -> Outcome:
    """Write the attempt's outcome (fenced on the claim) and its log line."""
    outbox = deps.store.outbox
    now = deps.clock.now()
    duration_ms = round(seconds * 1000, 1)
    data: dict[str, Any] = {"attempt": run.attempts, "duration_ms": duration_ms}
    next_at: datetime | None = None
    if error is None:
        assert result is not None
        status = ActionRunStatus.SUCCEEDED
        stored = await outbox.finish(run, status=status, result=msgspec.to_builtins(result.detail))
        message = f"{run.executor} attempt {run.attempts} succeeded in {duration_ms} ms"
    else:
        text = _describe(error, executor)
        data["error"] = text
        classify = executor.classify if executor is not None else None
        retry = is_retryable(error, classify) and run.attempts < run.max_attempts
        if retry:
            settings = deps.settings
            delay = retry_delay(
                run.attempts,
                base=settings.retry_base_seconds,
                cap=settings.retry_cap_seconds,
                retry_after=getattr(error, "retry_after", None),
            )
            next_at = now + timedelta(seconds=delay)
            status = ActionRunStatus.FAILED
            data["next_attempt_at"] = next_at.isoformat()
            message = (
                f"{run.executor} attempt {run.attempts} of {run.max_attempts} failed after "
                f"{duration_ms} ms: {text}; retrying at {next_at.isoformat()}"
            )
        else:
            status = ActionRunStatus.DEAD
            why = "out of attempts" if is_retryable(error, classify) else "not retryable"
            message = (
                f"{run.executor} attempt {run.attempts} failed after {duration_ms} ms: {text}; "
                f"dead ({why}), retry by hand when fixed"
            )
        stored = await outbox.finish(run, status=status, error=text, next_attempt_at=next_at)
    data["outcome"] = status
    if not stored:
        # The claim was lost (lease expired, cancelled): another attempt owns the run.
        message += " (result discarded: the run was cancelled or taken over meanwhile)"
        data["discarded"] = True
    await scope.log.append(
        LogKind.ACTION_ATTEMPT
        if status in (ActionRunStatus.SUCCEEDED, ActionRunStatus.FAILED)
        else LogKind.ACTION_DEAD,
        message=message,
        **run_refs(run),
        data=data,
    )
    metrics.ACTION_RUNS.labels(run.executor, status if stored else "discarded").inc()
    metrics.ATTEMPT_SECONDS.labels(run.executor).observe(seconds)
    if error is not None and status == ActionRunStatus.DEAD:
        log.warning("action run %s is dead: %s", run.id, data.get("error"))
    return Outcome(run.id, status if stored else "skipped", run.attempts, next_at)


def _describe(error: BaseException, executor: ActionExecutor | None) -> str:
    if isinstance(error, asyncio.TimeoutError | TimeoutError) and not str(error):
        limit = executor.timeout_seconds if executor is not None else 0
        return f"timed out after {limit} s"
    return f"{type(error).__name__}: {error}"[:2000]


def send_window_opens(org: Organization, now: datetime) -> datetime | None:
    """When a message may go out under the studio's send window (``None``: no window).

    Uses :func:`aisle.jobs.send_window.next_allowed`; the window's timezone defaults to
    the studio's. A malformed window is logged and ignored rather than blocking sends.
    """
    raw = org.settings.get("send_window")
    if not raw:
        return None
    from aisle.jobs.send_window import SendWindow, next_allowed

    try:
        window = msgspec.convert({"timezone": org.timezone, **raw}, SendWindow)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        log.warning("organization %s: ignoring malformed send_window: %s", org.slug, exc)
        return None
    return next_allowed(window, now)
