"""The runtime: the engine wrapped with storage.

Every way the world reaches a journey goes through here: events (from the API, CRMs,
executors), manual enrollment, contact changes (wedding date with confirmation), task
completion and the scheduler's wake-ups. Each change to a contact's enrollments runs in
one transaction holding that contact's lock, so one contact's events apply in order
and a crash leaves either all of a transition or none of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from aisle import bounded, logs, metrics
from aisle.builtins.triggers import DateReachedConfig
from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.domain.contact import Contact
from aisle.domain.enrollment_record import Enrollment
from aisle.domain.event import Event
from aisle.domain.event_record import EventRecord
from aisle.domain.organization import Organization
from aisle.domain.task import Task
from aisle.engine import core as engine
from aisle.engine.compiled import CompiledJourney
from aisle.engine.condition_limits import ConditionLimits, configure
from aisle.engine.effects import LogRecord, Transition
from aisle.engine.timing import parse_date
from aisle.runtime.after_commit import AfterCommit
from aisle.runtime.compiled import JourneyCache
from aisle.runtime.condition_workers import ConditionWorkers
from aisle.runtime.errors import DateChangeNotConfirmed, EnrollmentRefused, UnknownContact
from aisle.runtime.new_event import NewEvent
from aisle.runtime.persist import write_transition
from aisle.settings import Settings
from aisle.storage.automation_log import enrollment_refs
from aisle.storage.enrollment_moves import EnrollmentMoves
from aisle.storage.errors import NotFound
from aisle.storage.store import OrgScope, Store

__all__ = ["MAX_EVENT_ATTEMPTS", "Runtime", "Sweeper"]


class _AlreadyProcessed(Exception):
    """Another process applied the event first; this attempt's writes are rolled back."""


log = logging.getLogger(__name__)

ORG_CACHE_SECONDS = 10.0
"""How long a process trusts its copy of an organization's settings."""

MAX_EVENT_ATTEMPTS = 5
"""An event whose processing raises this many times is marked ``failed`` (and logged)."""

_UTC = ZoneInfo("UTC")


Sweeper = Callable[[Store], Awaitable[int]]
"""A periodic clean-up (expired node locks, stale presence) every scheduler pass on a
runtime runs (:attr:`Runtime.sweepers`); returns the rows it swept."""


class Runtime:
    """The engine on top of a :class:`Store`, with the plugin registry it runs."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        settings: Settings | None = None,
        *,
        on_work: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings if settings is not None else Settings()
        configure(ConditionLimits.from_environ(self.settings.environ))
        bounded.configure_pool(
            bounded.CONDITIONS, bounded.BoundedConfig.conditions(self.settings.environ)
        )
        self.conditions = ConditionWorkers()
        """Where conditions that loop run, under their time budget (``AISLE_CEL_*``)."""
        self.journeys = JourneyCache(registry, conditions=self.conditions)
        self.on_work = on_work
        """Called after a transaction queued action runs or wake-ups (embedded jobs wake up)."""
        self.sweepers: dict[str, Sweeper] = {}
        """Periodic clean-ups every scheduler pass on this runtime runs, by name; put
        here (and taken away) by the lifespan that owns what they sweep."""
        self._orgs: dict[str, tuple[float, Organization]] = {}
        self.after_commit = AfterCommit(
            lambda org_id, contact_id: self.process_contact_events(self.for_org(org_id), contact_id)
        )
        """Processes committed events after the call that accepted them has answered
        (:meth:`AfterCommit.process`); the app's lifespan settles it before stopping."""

    @property
    def clock(self) -> Any:
        return self.store.clock

    def for_org(self, org_id: str) -> OrgScope:
        """The organization's repositories, as :meth:`Store.for_org` gives them."""
        return self.store.for_org(org_id)

    async def organization(self, org_id: str, *, fresh: bool = False) -> Organization:
        """The organization, cached for ``ORG_CACHE_SECONDS`` (its timezone and send
        window change rarely, and every event and run needs them)."""
        cached = self._orgs.get(org_id)
        if fresh or cached is None or time.monotonic() - cached[0] > ORG_CACHE_SECONDS:
            cached = (time.monotonic(), await self.store.organizations.get(org_id))
            self._orgs[org_id] = cached
        return cached[1]

    def forget_organization(self, org_id: str) -> None:
        """Drop the cached organization after its settings changed."""
        self._orgs.pop(org_id, None)

    # -- events ----------------------------------------------------------------------

    async def ingest_event(
        self,
        scope: OrgScope,
        *,
        type: str,
        idempotency_key: str,
        contact_id: str | None = None,
        payload: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
        source: str = "api",
    ) -> tuple[EventRecord, bool]:
        """Accept an event (committed before anything else), then process it.

        Returns ``(record, created)``; a repeated idempotency key returns the original
        event and processes nothing new. If processing fails the event stays pending
        and the scheduler retries it; the caller still gets the accepted record.
        """
        record, created = await self._accept(
            scope,
            NewEvent(
                type=type,
                idempotency_key=idempotency_key,
                contact_id=contact_id,
                payload=payload or {},
                occurred_at=occurred_at,
                source=source,
            ),
        )
        if record.status == "pending":
            outcome = await self._try_process(scope, record, check_order=True)
            if outcome == "blocked":  # earlier events of this contact go first
                await self.process_contact_events(scope, record.event.contact_id)
            if outcome == "processed":
                record = msgspec.structs.replace(
                    record,
                    status="processed",
                    processed_at=self.clock.now(),
                    attempts=record.attempts + 1,
                    error=None,
                )
            else:
                record = await scope.events.get(record.event.id)
        return record, created

    async def ingest_batch(
        self, scope: OrgScope, events: Sequence[NewEvent]
    ) -> list[tuple[EventRecord, bool]]:
        """Accept a batch in one commit (all or none), then process each contact's
        events in arrival order, one contact at a time.

        Returns each event's record as it stands after processing, with ``created``.
        :raises UnknownContact: naming the first event whose contact is not here.
        """
        accepted: list[tuple[EventRecord, bool]] = []
        async with self.store.transaction():
            known: set[str] = set()
            for index, event in enumerate(events):
                if event.contact_id is not None and event.contact_id not in known:
                    if await scope.contacts.find(event.contact_id) is None:
                        raise UnknownContact(event.contact_id, index)
                    known.add(event.contact_id)
                accepted.append(await _accept_unchecked(scope, event))
        contacts = dict.fromkeys(r.event.contact_id for r, _ in accepted if r.status == "pending")
        for contact_id in contacts:
            await self.process_contact_events(scope, contact_id)
        return [(await scope.events.get(r.event.id), created) for r, created in accepted]

    async def _accept(self, scope: OrgScope, event: NewEvent) -> tuple[EventRecord, bool]:
        if event.contact_id is not None and await scope.contacts.find(event.contact_id) is None:
            raise NotFound("contact", event.contact_id)
        return await _accept_unchecked(scope, event)

    async def process_contact_events(self, scope: OrgScope, contact_id: str | None) -> int:
        """Process the contact's pending events in arrival order; returns how many.

        An event whose processing fails holds back the contact's later events (order
        matters: a payment before its booking means nothing) until it succeeds or is
        failed for good after ``MAX_EVENT_ATTEMPTS``.
        """
        done = 0
        failed: set[str] = set()
        while True:
            pending = [
                r
                for r in await scope.events.pending_for_contact(contact_id, limit=50)
                if r.event.id not in failed
            ]
            if not pending:
                return done
            for record in pending:
                outcome = await self._try_process(scope, record, check_order=False)
                if outcome == "processed":
                    done += 1
                elif outcome == "error":
                    failed.add(record.event.id)
                    current = await scope.events.get(record.event.id)
                    if current.status == "pending":
                        return done

    async def process_event(self, scope: OrgScope, event_id: str) -> bool:
        """Apply one pending event (after any earlier pending events of its contact).

        Returns False when processing raised (recorded on the event; retried later).
        """
        record = await scope.events.get(event_id)
        if record.status != "pending":
            return True
        outcome = await self._try_process(scope, record, check_order=True)
        if outcome == "blocked":
            await self.process_contact_events(scope, record.event.contact_id)
            return (await scope.events.get(event_id)).status != "pending"
        return outcome != "error"

    async def _try_process(self, scope: OrgScope, record: EventRecord, *, check_order: bool) -> str:
        """``processed``, ``skipped`` (someone else did it), ``blocked`` (an earlier event
        of the contact is pending) or ``error`` (recorded on the event)."""
        event_id = record.event.id
        logs.bind(organization=scope.org_id, event=event_id)
        try:
            outcome, queued = await self._process_event(scope, record, check_order=check_order)
        except _AlreadyProcessed:
            return "skipped"
        except Exception as exc:  # a bug or a broken plugin: keep the event, say why
            metrics.EVENTS_PROCESSED.labels("error").inc()
            log.exception("processing event %s of organization %s failed", event_id, scope.org_id)
            current = await scope.events.get(event_id)
            final = current.attempts + 1 >= MAX_EVENT_ATTEMPTS
            await scope.events.mark_failed(event_id, f"{type(exc).__name__}: {exc}", final=final)
            await scope.log.append(
                LogKind.EVENT_FAILED if final else LogKind.EVENT_ERROR,
                message=f"processing {record.event.type} failed"
                + (" for good" if final else ", will retry")
                + f": {type(exc).__name__}: {exc}",
                event_id=event_id,
                contact_id=record.event.contact_id,
                data={"attempt": current.attempts + 1},
            )
            return "error"
        if queued:
            self._wake()
        if outcome == "processed":
            metrics.EVENTS_PROCESSED.labels("processed").inc()
        return outcome

    async def _process_event(
        self, scope: OrgScope, record: EventRecord, *, check_order: bool
    ) -> tuple[str, bool]:
        org = await self.organization(scope.org_id)
        event = record.event
        queued = False
        async with self.store.transaction():
            contact = None
            if event.contact_id is not None:
                contact = await scope.contacts.lock(event.contact_id)
                if check_order and await scope.events.has_earlier_pending(record):
                    return "blocked", False
            if contact is not None:
                now = self.clock.now()
                enrollments = await scope.enrollments.for_contact(contact.id, lock=True)
                for enrollment in enrollments:
                    if enrollment.state.status != "active":
                        continue
                    compiled = await self._compiled(scope, enrollment, org)
                    transition = await self.conditions.run_engine(
                        compiled,
                        partial(
                            engine.handle_event, compiled, enrollment.state, contact, event, now
                        ),
                    )
                    if transition.state != enrollment.state or transition.changed:
                        await self._write(scope, enrollment, transition, event_id=event.id)
                        await _complete_tasks_left(scope, enrollment, transition, event)
                        queued = queued or bool(transition.actions) or _waits(transition)
                for journey_id, version in await scope.journeys.live_versions():
                    compiled = await self.journeys.get(scope, journey_id, version, org.timezone)
                    matches = partial(engine.matches_entry, compiled, contact, event)
                    if not await self.conditions.run_engine(compiled, matches):
                        continue
                    # Statuses as they were before this event (re-enrollment policy).
                    statuses = [e.state.status for e in enrollments if e.journey_id == journey_id]
                    if not engine.may_enroll(compiled.settings.reenrollment, statuses):
                        continue
                    transition = await self.conditions.run_engine(
                        compiled,
                        partial(
                            engine.start, compiled, scope.enrollments.new_id(), contact, now, event
                        ),
                    )
                    await write_transition(
                        scope,
                        transition,
                        contact_id=contact.id,
                        journey_id=journey_id,
                        version=version,
                        registry=self.registry,
                        new=True,
                        event_id=event.id,
                    )
                    queued = queued or bool(transition.actions) or _waits(transition)
            # Conditional: if another process applied this event meanwhile, roll back ours.
            if not await scope.events.mark_processed(event.id):
                raise _AlreadyProcessed(event.id)
        return "processed", queued

    # -- enrollments -----------------------------------------------------------------

    async def enroll(
        self,
        org_id: str,
        *,
        contact_id: str,
        journey_id: str,
        actor: str = "system",
        force: bool = False,
    ) -> Enrollment:
        """Enroll a contact by hand in the journey's live version.

        Refused when the journey is not live, does not allow manual entry, or the
        re-enrollment policy says no (``force`` overrides the last two, for admins).
        """
        scope = self.for_org(org_id)
        org = await self.organization(org_id)
        async with self.store.transaction():
            await scope.contacts.lock(contact_id)
            contact = await scope.contacts.get(contact_id)
            journey = await scope.journeys.get(journey_id)
            if journey.status != "live" or journey.live_version is None:
                raise EnrollmentRefused(
                    f"journey {journey_id!r} is {journey.status}: only a live journey "
                    "takes new clients",
                    field="journey_id",
                )
            compiled = await self.journeys.get(
                scope, journey_id, journey.live_version, org.timezone
            )
            if not force and not compiled.settings.entry.manual:
                raise EnrollmentRefused(
                    f"journey {journey_id!r} does not allow manual enrollment "
                    "(settings.entry.manual is false)",
                    field="journey_id",
                )
            statuses = await scope.enrollments.statuses(contact_id, journey_id)
            if not force and not engine.may_enroll(compiled.settings.reenrollment, statuses):
                raise EnrollmentRefused(
                    f"contact {contact_id!r} may not enter journey {journey_id!r} again "
                    f"(re-enrollment policy {compiled.settings.reenrollment!r})",
                    field="contact_id",
                )
            transition = await self.conditions.run_engine(
                compiled,
                partial(
                    engine.start,
                    compiled,
                    scope.enrollments.new_id(),
                    contact,
                    self.clock.now(),
                    None,
                ),
            )
            created = await write_transition(
                scope,
                transition,
                contact_id=contact_id,
                journey_id=journey_id,
                version=journey.live_version,
                registry=self.registry,
                new=True,
                actor=actor,
            )
            assert created is not None
            await scope.log.append(
                LogKind.ENROLLMENT_MANUAL,
                message=f"enrolled by hand by {actor}",
                actor=actor,
                contact_id=contact_id,
                enrollment_id=created.id,
                journey_id=journey_id,
                journey_version=journey.live_version,
            )
        self._wake()
        return await scope.enrollments.get(created.id)

    async def exit_enrollment(
        self, org_id: str, enrollment_id: str, *, actor: str = "system", reason: str = ""
    ) -> Enrollment:
        """Take a client out of a journey by hand (status ``exited``, outcome ``manual``)."""
        scope = self.for_org(org_id)
        async with self.store.transaction():
            enrollment = await scope.enrollments.get(enrollment_id)
            await scope.contacts.lock(enrollment.contact_id)
            enrollment = await scope.enrollments.lock(enrollment_id)
            if enrollment.state.status != "active":
                raise EnrollmentRefused(
                    f"enrollment {enrollment_id!r} is {enrollment.state.status}", field="status"
                )
            await _stop(
                scope,
                enrollment,
                LogKind.ENROLLMENT_EXITED,
                f"taken out by {actor}" + (f": {reason}" if reason else ""),
                actor=actor,
                status="exited",
                outcome="manual",
            )
        return await scope.enrollments.get(enrollment_id)

    async def migrate_enrollment(
        self,
        org_id: str,
        enrollment_id: str,
        *,
        from_version: int,
        to_version: int,
        to_step: str,
        actor: str = "system",
    ) -> bool:
        """Move an active enrollment of ``from_version`` to ``to_step`` of ``to_version``
        (its waits recomputed there). Returns ``False`` when it moved on meanwhile."""
        scope = self.for_org(org_id)
        org = await self.organization(org_id)
        async with self.store.transaction():
            enrollment = await scope.enrollments.get(enrollment_id)
            await scope.contacts.lock(enrollment.contact_id)
            enrollment = await scope.enrollments.lock(enrollment_id)
            if enrollment.state.status != "active" or enrollment.version != from_version:
                return False
            contact = await scope.contacts.get(enrollment.contact_id, include_deleted=True)
            compiled = await self.journeys.get(
                scope, enrollment.journey_id, to_version, org.timezone
            )
            state = msgspec.structs.replace(enrollment.state, step_id=to_step)
            transition = await self.conditions.run_engine(
                compiled, partial(engine.recompute, compiled, state, contact, self.clock.now())
            )
            moves = EnrollmentMoves(org_id, self.store.db, self.store.clock)
            await moves.set_version(enrollment.id, to_version)
            await write_transition(
                scope,
                transition,
                contact_id=enrollment.contact_id,
                journey_id=enrollment.journey_id,
                version=to_version,
                registry=self.registry,
                actor=actor,
            )
            await scope.log.append(
                LogKind.ENROLLMENT_MIGRATED,
                actor=actor,
                contact_id=enrollment.contact_id,
                enrollment_id=enrollment.id,
                journey_id=enrollment.journey_id,
                journey_version=to_version,
                step_id=to_step,
                message=f"moved from version {from_version} step {enrollment.state.step_id} "
                f"to version {to_version} step {to_step}",
            )
        self._wake()
        return True

    async def fire_wakeup(self, scope: OrgScope, enrollment_id: str) -> bool:
        """Run the engine's ``tick`` for a due enrollment; call inside a transaction that
        holds the enrollment (the scheduler's). Returns whether anything changed."""
        logs.bind(organization=scope.org_id, enrollment=enrollment_id)
        org = await self.organization(scope.org_id)
        enrollment = await scope.enrollments.get(enrollment_id)
        now = self.clock.now()
        state = enrollment.state
        if state.status != "active" or state.wake_at is None or state.wake_at > now:
            return False
        contact = await scope.contacts.get(enrollment.contact_id, include_deleted=True)
        compiled = await self._compiled(scope, enrollment, org)
        transition = await self.conditions.run_engine(
            compiled, partial(engine.tick, compiled, state, contact, now)
        )
        after = transition.state
        if after == state and after.wake_at is not None and after.wake_at <= now:
            # Due, yet nothing fired and nothing moved: look again in a minute rather
            # than have the scheduler pick the same enrollment again at once, forever.
            retry_at = now + timedelta(minutes=1)
            transition = msgspec.structs.replace(
                transition,
                state=msgspec.structs.replace(state, wake_at=retry_at),
                log=(
                    *transition.log,
                    LogRecord(
                        kind=LogKind.WAKE_DEFERRED,
                        at=now,
                        step_id=state.step_id,
                        message=f"due but no trigger fired; looking again at {retry_at}",
                    ),
                ),
            )
        await self._write(scope, enrollment, transition)
        if transition.actions:
            self._wake()
        return True

    async def fail_enrollment(self, scope: OrgScope, enrollment_id: str, error: str) -> None:
        """Stop an enrollment the engine could not process (a broken plugin, a bug)."""
        async with self.store.transaction():
            enrollment = await scope.enrollments.get(enrollment_id)
            await _stop(
                scope,
                enrollment,
                LogKind.ENROLLMENT_FAILED,
                error[:2000],
                status="failed",
                error=error[:2000],
            )

    # -- contacts --------------------------------------------------------------------

    async def create_contact(
        self, org_id: str, contact: Contact, *, actor: str = "system", source: str = "api"
    ) -> Contact:
        """Store a contact and emit ``contact.created`` (journeys may start on it)."""
        scope = self.for_org(org_id)
        async with self.store.transaction():
            contact = await scope.contacts.create(contact)
            await scope.log.append(
                LogKind.CONTACT_CREATED,
                message="contact created",
                actor=actor,
                contact_id=contact.id,
            )
        await self.ingest_event(
            scope,
            type="contact.created",
            idempotency_key=f"contact.created:{contact.id}",
            contact_id=contact.id,
            payload={"contact_id": contact.id},
            source=source,
        )
        return contact

    async def update_contact(
        self,
        org_id: str,
        contact: Contact,
        *,
        confirm_date_change: bool = False,
        actor: str = "system",
    ) -> Contact:
        """Replace a contact's fields.

        Moving a date that pending steps count from needs ``confirm_date_change=True``
        (else :class:`DateChangeNotConfirmed`): the wedding date always, a custom field
        when a ``date_reached`` trigger on the current step of one of the contact's
        active enrollments reads it. After a date, timezone or custom field change every
        active enrollment of the contact has its wake-ups recomputed in the same
        transaction (a condition that now holds becomes due), and logged: always after
        a date or timezone change, after another custom field change when a wake-up moved.
        """
        scope = self.for_org(org_id)
        org = await self.organization(org_id)
        async with self.store.transaction():
            await scope.contacts.lock(contact.id)
            old = await scope.contacts.get(contact.id)
            date_moved = old.wedding_date != contact.wedding_date
            if date_moved and not confirm_date_change:
                raise DateChangeNotConfirmed(contact.id, old.wedding_date, contact.wedding_date)
            custom_changed = {
                name
                for name in old.custom.keys() | contact.custom.keys()
                if old.custom.get(name) != contact.custom.get(name)
            }
            waiting: list[tuple[Enrollment, CompiledJourney]] = []
            if date_moved or custom_changed or old.timezone != contact.timezone:
                for enrollment in await scope.enrollments.active_for_contact(contact.id, lock=True):
                    waiting.append((enrollment, await self._compiled(scope, enrollment, org)))
            dates_moved = sorted(
                custom_changed & {n for e, c in waiting for n in _custom_dates_read(c, e)}
            )
            if dates_moved and not confirm_date_change:
                name = dates_moved[0]
                raise DateChangeNotConfirmed(
                    contact.id,
                    _as_date(old.custom.get(name)),
                    _as_date(contact.custom.get(name)),
                    field=f"custom.{name}",
                )
            await scope.contacts.save(contact)
            changed = sorted(
                f for f in contact.__struct_fields__ if getattr(old, f) != getattr(contact, f)
            )
            await scope.log.append(
                LogKind.CONTACT_UPDATED,
                message=f"changed {', '.join(changed) or 'nothing'}",
                actor=actor,
                contact_id=contact.id,
                data={"fields": changed},
            )
            if date_moved:
                await scope.log.append(
                    LogKind.CONTACT_WEDDING_DATE_CHANGED,
                    message=f"wedding date moved from {old.wedding_date} to "
                    f"{contact.wedding_date} (confirmed by {actor})",
                    actor=actor,
                    contact_id=contact.id,
                    data={
                        "old": old.wedding_date.isoformat() if old.wedding_date else None,
                        "new": contact.wedding_date.isoformat() if contact.wedding_date else None,
                    },
                )
            for name in dates_moved:
                before, after = old.custom.get(name), contact.custom.get(name)
                await scope.log.append(
                    LogKind.CONTACT_DATE_FIELD_CHANGED,
                    message=f"custom.{name} moved from {before} to {after} (confirmed by {actor})",
                    actor=actor,
                    contact_id=contact.id,
                    data={"field": f"custom.{name}", "old": before, "new": after},
                )
            # After a change no date trigger counts from, log only wake-ups that moved.
            always_log = date_moved or bool(dates_moved) or old.timezone != contact.timezone
            now = self.clock.now()
            for enrollment, compiled in waiting:
                transition = await self.conditions.run_engine(
                    compiled, partial(engine.recompute, compiled, enrollment.state, contact, now)
                )
                await self._write(scope, enrollment, transition, actor=actor)
                if not always_log and transition.state.wake_at == enrollment.state.wake_at:
                    continue
                await scope.log.append(
                    LogKind.ENROLLMENT_RECOMPUTED,
                    message=f"wake-up recomputed after the contact changed: "
                    f"{enrollment.state.wake_at} -> {transition.state.wake_at}",
                    actor=actor,
                    data={
                        "old_wake_at": _iso(enrollment.state.wake_at),
                        "new_wake_at": _iso(transition.state.wake_at),
                    },
                    **enrollment_refs(enrollment),
                )
        self._wake()
        return contact

    async def delete_contact(self, org_id: str, contact_id: str, *, actor: str = "system") -> int:
        """Soft-delete a contact and take them out of every journey they are in.

        Returns how many enrollments were exited. Nothing is destroyed: the contact can
        be restored (its enrollments stay exited) and everything is logged.
        """
        scope = self.for_org(org_id)
        async with self.store.transaction():
            contact = await scope.contacts.lock(contact_id)
            if contact is None:
                raise NotFound("contact", contact_id)
            exited = 0
            for enrollment in await scope.enrollments.for_contact(contact_id, lock=True):
                if enrollment.state.status != "active":
                    continue
                await _stop(
                    scope,
                    enrollment,
                    LogKind.ENROLLMENT_EXITED,
                    f"the contact was deleted by {actor}",
                    actor=actor,
                    status="exited",
                    outcome="contact_deleted",
                )
                exited += 1
            await scope.contacts.soft_delete(contact_id)
            await scope.log.append(
                LogKind.CONTACT_DELETED,
                message=f"deleted by {actor}; {exited} enrollment(s) exited",
                actor=actor,
                contact_id=contact_id,
            )
        return exited

    # -- tasks -----------------------------------------------------------------------

    async def complete_task(self, org_id: str, task_id: str, *, by: str = "system") -> Task:
        """Approve a task as ``by``; once complete, emit ``task.completed``.

        The event's payload names the task, its kind, its step, the visit of that step
        it was created on and its enrollment, so the step's ``task_completed`` trigger
        can match it (and a task left from an earlier pass through the step cannot).
        """
        scope = self.for_org(org_id)
        visit: int | None = None
        async with self.store.transaction():
            task = await scope.tasks.approve(task_id, by=by)
            if task.status == "completed" and task.action_run_id is not None:
                run = await scope.action_runs.get(task.action_run_id)
                if run.step_id == task.step_id:
                    visit = run.step_visit()
            await scope.log.append(
                LogKind.TASK_COMPLETED if task.status == "completed" else LogKind.TASK_APPROVED,
                message=f"{task.title!r} approved by {by}",
                actor=by,
                contact_id=task.contact_id,
                enrollment_id=task.enrollment_id,
                step_id=task.step_id,
                action_run_id=task.action_run_id,
                data={"task_id": task.id, "approvals": len(task.approvals)},
            )
        if task.status == "completed":
            await self.ingest_event(
                scope,
                type="task.completed",
                idempotency_key=f"task.completed:{task.id}",
                contact_id=task.contact_id,
                payload={
                    "task_id": task.id,
                    "kind": task.details.get("kind"),
                    "step_id": task.step_id,
                    "visit": visit,
                    "enrollment_id": task.enrollment_id,
                    "assignee": task.assignee,
                    "title": task.title,
                    "completed_by": by,
                },
                source="task",
            )
        return task

    # -- helpers ---------------------------------------------------------------------

    async def _compiled(
        self, scope: OrgScope, enrollment: Enrollment, org: Organization
    ) -> CompiledJourney:
        return await self.journeys.get(
            scope, enrollment.journey_id, enrollment.version, org.timezone
        )

    async def _write(
        self, scope: OrgScope, enrollment: Enrollment, transition: Transition, **options: Any
    ) -> None:
        """Store a transition of an existing enrollment (``options``: ``event_id``, ``actor``)."""
        await write_transition(
            scope,
            transition,
            contact_id=enrollment.contact_id,
            journey_id=enrollment.journey_id,
            version=enrollment.version,
            registry=self.registry,
            **options,
        )

    def _wake(self) -> None:
        if self.on_work is not None:
            self.on_work()

    async def event(self, org_id: str, event_id: str) -> Event:
        try:
            return (await self.for_org(org_id).events.get(event_id)).event
        except NotFound:
            raise


async def _accept_unchecked(scope: OrgScope, event: NewEvent) -> tuple[EventRecord, bool]:
    accepted = await scope.events.accept(
        type=event.type,
        idempotency_key=event.idempotency_key,
        contact_id=event.contact_id,
        payload=event.payload,
        occurred_at=event.occurred_at,
        source=event.source,
    )
    if accepted[1]:
        metrics.EVENTS_ACCEPTED.labels(event.source).inc()
    return accepted


async def _stop(
    scope: OrgScope,
    enrollment: Enrollment,
    kind: LogKind,
    message: str,
    *,
    actor: str = "system",
    **changes: Any,
) -> None:
    """End an enrollment's wait (``changes``: its new status and outcome or error), and
    log why."""
    await scope.enrollments.save(msgspec.structs.replace(enrollment.state, wake_at=None, **changes))
    await scope.log.append(kind, message=message, actor=actor, **enrollment_refs(enrollment))


_HAND_TRIGGERS = frozenset({"task_completed", "manual"})
"""Edges whose firing says nothing more about a step's tasks: ``task_completed`` fired
because a task was completed already, ``manual`` is a person moving the client on (a
revision round, a correction), not what the task waited for."""


async def _complete_tasks_left(
    scope: OrgScope, enrollment: Enrollment, transition: Transition, event: Event
) -> None:
    """Complete the open tasks of the step visit ``event`` moved the enrollment out of.

    A payment step's "pay the deposit" task is done once ``payment.received`` moved the
    couple on, as a questionnaire task is once the form came in: left open, it would
    ask for what already happened.
    """
    before = enrollment.state
    taken = next(
        (
            r
            for r in transition.log
            if r.kind == LogKind.EDGE_TAKEN
            and r.step_id == before.step_id
            and r.data.get("event_id") == event.id
        ),
        None,
    )
    if taken is None or before.step_id is None or taken.data.get("trigger") in _HAND_TRIGGERS:
        return
    for task in await scope.tasks.open_for_step(enrollment.id, before.step_id):
        if task.action_run_id is None:
            continue  # not asked for by a visit of the step
        run = await scope.action_runs.get(task.action_run_id)
        if run.step_visit() != before.visit:
            continue  # an earlier visit's task: this event did not answer it
        reason = {
            "reason": "step_left",
            "event_id": event.id,
            "event_type": event.type,
            "edge_id": taken.edge_id,
            "trigger": taken.data.get("trigger"),
        }
        closed = await scope.tasks.close(task.id, details={**task.details, "completed_by": reason})
        if closed is None:
            continue
        await scope.log.append(
            LogKind.TASK_COMPLETED,
            message=f"{task.title!r} completed: {event.type} moved the client on from "
            f"{before.step_id!r}",
            contact_id=task.contact_id,
            enrollment_id=task.enrollment_id,
            step_id=task.step_id,
            action_run_id=task.action_run_id,
            data={"task_id": task.id, **reason},
        )


def _waits(transition: Any) -> bool:
    return transition.state.wake_at is not None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _custom_dates_read(journey: CompiledJourney, enrollment: Enrollment) -> set[str]:
    """The custom fields the ``date_reached`` edges of the enrollment's step count from."""
    step = journey.step(enrollment.state.step_id)
    if step is None:
        return set()
    return {
        edge.config.field.removeprefix("custom.")
        for edge in step.outgoing
        if isinstance(edge.config, DateReachedConfig) and edge.config.field.startswith("custom.")
    }


def _as_date(value: Any) -> date | None:
    return parse_date(value, _UTC)
