"""The scheduler pass: lost claims, due wake-ups, stranded events, and periodic sweeps.

Several schedulers may run against one PostgreSQL database: wake-ups are taken with
``FOR UPDATE SKIP LOCKED`` (an enrollment and its contact), so each is fired once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aisle import metrics
from aisle.contracts.log import LogKind
from aisle.jobs.deps import JobDeps
from aisle.storage.automation_log import run_refs

__all__ = [
    "PassReport",
    "expire_claims",
    "fire_due_wakeups",
    "recover_events",
    "scheduler_pass",
]

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    expired_claims: int = 0
    wakeups: int = 0
    events: int = 0
    swept: dict[str, int] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        return bool(self.expired_claims or self.wakeups or self.events)


async def expire_claims(deps: JobDeps) -> int:
    """Runs whose worker vanished (lease expired) become due again, or dead; logged."""
    expired = await deps.store.outbox.expire_claims(limit=deps.settings.batch_size)
    for claim in expired:
        scope = deps.for_org(claim.organization_id)
        run = await scope.action_runs.get(claim.run_id)
        await scope.log.append(
            LogKind.ACTION_LOST,
            message=f"{run.executor} attempt {claim.attempt}: worker {claim.claimed_by} "
            f"stopped answering (lease expired); run is now {claim.new_status}",
            **run_refs(run),
            data={"attempt": claim.attempt, "worker": claim.claimed_by},
        )
    return len(expired)


async def fire_due_wakeups(deps: JobDeps, *, limit: int | None = None) -> int:
    """Tick every active enrollment whose ``wake_at`` has come (up to ``limit``).

    Each in a transaction of its own holding the enrollment and its contact; one whose
    contact is busy (an event being applied) is left for the next pass. One that makes
    the engine raise is failed with the error rather than retried forever.
    """
    store = deps.store
    runtime = deps.runtime
    skip: set[str] = set()
    fired = 0
    limit = limit or deps.settings.batch_size
    while fired < limit:
        due = None
        try:
            async with store.transaction():
                due = await store.system.next_due_enrollment(skip=skip)
                if due is None:
                    break
                if not await store.system.try_lock_contact(due.contact_id):
                    metrics.LOCK_CONTENTION.labels("contact").inc()
                    skip.add(due.enrollment_id)
                    continue
                await runtime.fire_wakeup(deps.for_org(due.organization_id), due.enrollment_id)
                fired += 1
        except Exception as exc:
            if due is None:
                raise
            log.exception("wake-up of enrollment %s failed", due.enrollment_id)
            skip.add(due.enrollment_id)
            await runtime.fail_enrollment(
                deps.for_org(due.organization_id),
                due.enrollment_id,
                f"the engine failed at a wake-up: {type(exc).__name__}: {exc}",
            )
    return fired


async def recover_events(deps: JobDeps, *, older_than: float = 5.0) -> int:
    """Process accepted events still pending (the process crashed before processing).

    ``older_than`` leaves just-accepted events to the request that is processing them.
    """
    pending = await deps.store.system.pending_events(
        older_than=older_than, limit=deps.settings.batch_size
    )
    done = 0
    for org_id, contact_id in dict.fromkeys((e.organization_id, e.contact_id) for e in pending):
        done += await deps.runtime.process_contact_events(deps.for_org(org_id), contact_id)
    return done


async def scheduler_pass(deps: JobDeps, *, event_grace: float = 5.0) -> PassReport:
    """One round of everything the scheduler does except relaying."""
    report = PassReport()
    report.expired_claims = await expire_claims(deps)
    report.wakeups = await fire_due_wakeups(deps)
    report.events = await recover_events(deps, older_than=event_grace)
    for name, sweeper in list(deps.sweepers.items()):
        try:
            report.swept[name] = await sweeper(deps.store)
        except Exception:
            log.exception("sweeper %s failed", name)
    return report
