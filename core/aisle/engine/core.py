"""The pure journey engine: (journey, state, event or clock) → (new state, effects).

No I/O happens here, the wall clock is never read and nothing is random: the same
inputs always give the same :class:`~aisle.engine.effects.Transition`. The storage
layer loads a :class:`CompiledJourney` and an :class:`~aisle.domain.EnrollmentState`,
calls one of the functions below and writes the result in one transaction.

How a journey runs:

- An enrollment sits at one step. Entering a step increments ``visit``, sets
  ``entered_at`` and runs the node type's ``on_enter``; the actions it requests become
  action runs keyed ``{enrollment}:{visit}:{step}:{key}`` (stable on replay, new on
  every visit).
- ``Advance`` leaves at once, ``Complete`` and ``Fail`` end the enrollment, ``Stay``
  asks the step's outgoing edges (in priority order) whether they fire now; the first
  that does is taken, otherwise ``wake_at`` is the earliest time one will. A
  non-terminal step without outgoing edges completes with outcome ``dead_end``.
- Immediate moves chain within one call, at most ``settings.max_transitions`` of
  them; more fails the enrollment naming the loop.
- A trigger answering ``FireAt`` with a time not after ``now`` is due, like ``Fire``.
- A node or trigger type that raises, or answers with something that is not an
  outcome, fails the enrollment with a message naming the step or edge: the engine
  itself never raises on a compiled journey.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.events import EventView
from aisle.contracts.log import LogKind
from aisle.contracts.nodes import ActionRequest, Advance, Complete, Fail, NodeContext, Stay
from aisle.contracts.registry import Registry
from aisle.contracts.triggers import Fire, FireAt, NotYet, TriggerContext
from aisle.domain.contact import Contact
from aisle.domain.enrollment import EnrollmentState, EnrollmentStatus
from aisle.domain.event import Event
from aisle.domain.journey import Graph, ReenrollmentPolicy
from aisle.engine.compiled import CompiledEdge, CompiledJourney, CompiledStep, compile_graph
from aisle.engine.conditions import ConditionScope
from aisle.engine.effects import LogRecord, PlannedAction, Transition
from aisle.engine.timing import to_utc
from aisle.engine.validation import InvalidJourney

__all__ = [
    "CompiledJourney",
    "InvalidJourney",
    "compile_journey",
    "event_view",
    "handle_event",
    "matches_entry",
    "may_enroll",
    "recompute",
    "start",
    "tick",
]

_replace = msgspec.structs.replace


def compile_journey(
    graph: Graph,
    registry: Registry,
    *,
    journey_id: str,
    version: int,
    studio_timezone: str = "UTC",
) -> CompiledJourney:
    """Resolve types and compile conditions; raises ``InvalidJourney`` with the issues."""
    return compile_graph(
        graph, registry, journey_id=journey_id, version=version, studio_timezone=studio_timezone
    )


def may_enroll(policy: ReenrollmentPolicy, previous_statuses: Iterable[EnrollmentStatus]) -> bool:
    """Whether a contact may enroll again, given the statuses of their past enrollments.

    ``once``: never enrolled in this journey before. ``after_completion``: every
    previous enrollment has finished (completed, exited or failed). ``always``: yes,
    even while another enrollment is active.
    """
    statuses = list(previous_statuses)
    if policy == "once":
        return not statuses
    if policy == "after_completion":
        return all(status != "active" for status in statuses)
    return True


def event_view(event: Event | None) -> EventView | None:
    """The event as node and trigger types see it."""
    if event is None:
        return None
    return EventView(
        type=event.type, payload=event.payload, occurred_at=event.occurred_at, id=event.id
    )


def matches_entry(journey: CompiledJourney, contact: Contact, event: Event) -> bool:
    """Whether ``event`` enrolls ``contact`` under the journey's entry criteria.

    A filter that fails to evaluate (a missing field) counts as not matching.
    """
    entry = journey.settings.entry
    if entry.event_type is None or entry.event_type != event.type:
        return False
    if entry.filter is None:
        return True
    scope = ConditionScope(journey.programs, contact.activation(), {}, to_utc(event.occurred_at))
    return scope.evaluate(entry.filter, event_view(event))


def start(
    journey: CompiledJourney,
    enrollment_id: str,
    contact: Contact,
    now: datetime,
    event: Event | None = None,
) -> Transition:
    """Enroll: enter the start step and chain immediate transitions."""
    run = _Run(journey, EnrollmentState(enrollment_id=enrollment_id), contact, now, event)
    run.record(
        LogKind.ENROLLMENT_STARTED,
        message=f"enrolled in {journey.journey_id} v{journey.version}",
        data={
            "journey_id": journey.journey_id,
            "version": journey.version,
            "event_id": event.id if event else None,
            "event_type": event.type if event else None,
        },
    )
    return run.guard(lambda: run.enter(journey.start_step))


def handle_event(
    journey: CompiledJourney,
    state: EnrollmentState,
    contact: Contact,
    event: Event,
    now: datetime,
) -> Transition:
    """Apply an event: exit criteria first, then the current step's triggers."""
    if state.status != "active":
        return Transition(state=state)
    run = _Run(journey, state, contact, now, event)
    return run.guard(run.on_event)


def tick(
    journey: CompiledJourney, state: EnrollmentState, contact: Contact, now: datetime
) -> Transition:
    """The clock reached ``state.wake_at`` (or later): fire due time-based triggers."""
    if state.status != "active":
        return Transition(state=state)
    run = _Run(journey, state, contact, now, None)
    return run.guard(run.on_tick)


def recompute(
    journey: CompiledJourney, state: EnrollmentState, contact: Contact, now: datetime
) -> Transition:
    """A date field changed: recompute ``wake_at`` for the current step, fire nothing.

    Date triggers judge "already past" from ``now`` from here on (their past-date policy
    decides); a trigger now due makes ``wake_at <= now`` so the scheduler's next
    ``tick`` takes it. When the step was already due before the change (the scheduler
    is behind), nothing changes: that ``tick`` re-evaluates with the new dates anyway.
    """
    if state.status != "active":
        return Transition(state=state)
    run = _Run(journey, state, contact, now, None)
    return run.guard(run.on_recompute)


class _Stop(Exception):
    """Ends a call early with a failed enrollment (never escapes this module)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Run:
    """One engine call: the evolving state and everything it produced so far."""

    def __init__(
        self,
        journey: CompiledJourney,
        state: EnrollmentState,
        contact: Contact,
        now: datetime,
        event: Event | None,
    ) -> None:
        self.journey = journey
        self.state = state
        self.now = to_utc(now)
        self.contact = contact.activation()
        self.event = event_view(event)
        self.scope = ConditionScope(journey.programs, self.contact, state.variables, self.now)
        self.actions: list[PlannedAction] = []
        self.log: list[LogRecord] = []
        self.path: list[str] = []
        self.transitions = 0
        self._reported_errors = 0

    # -- bookkeeping ------------------------------------------------------------------

    def record(
        self,
        kind: LogKind,
        *,
        step_id: str | None = None,
        edge_id: str | None = None,
        message: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.log.append(
            LogRecord(
                kind=kind,
                at=self.now,
                step_id=step_id,
                edge_id=edge_id,
                message=message,
                data=data or {},
            )
        )

    def report_condition_errors(self, step_id: str | None, edge_id: str | None = None) -> None:
        for error in self.scope.errors[self._reported_errors :]:
            self.record(
                LogKind.CONDITION_ERROR,
                step_id=step_id,
                edge_id=edge_id,
                message=f"condition {error.expression!r} counted as false: {error.error}",
                data={"expression": error.expression, "error": error.error},
            )
        self._reported_errors = len(self.scope.errors)

    def guard(self, body: Any) -> Transition:
        try:
            body()
        except _Stop as stop:
            self.finish("failed", error=stop.reason)
        return Transition(state=self.state, actions=tuple(self.actions), log=tuple(self.log))

    def finish(
        self, status: EnrollmentStatus, *, outcome: str | None = None, error: str | None = None
    ) -> None:
        self.state = _replace(self.state, status=status, wake_at=None, outcome=outcome, error=error)
        kind = {
            "completed": LogKind.ENROLLMENT_COMPLETED,
            "exited": LogKind.ENROLLMENT_EXITED,
            "failed": LogKind.ENROLLMENT_FAILED,
        }[status]
        message = error or (f"{status} ({outcome})" if outcome else status)
        self.record(
            kind,
            step_id=self.state.step_id,
            message=message,
            data={"outcome": outcome} if outcome else {},
        )

    def current(self) -> CompiledStep:
        step = self.journey.step(self.state.step_id)
        if step is None:
            raise _Stop(
                f"the enrollment is at step {self.state.step_id!r}, which journey "
                f"{self.journey.journey_id} v{self.journey.version} does not have"
            )
        return step

    # -- entering steps ---------------------------------------------------------------

    def enter(self, step_id: str) -> None:
        """Enter ``step_id`` and follow immediate moves until something waits or ends."""
        next_step: str | None = step_id
        while next_step is not None:
            next_step = self._enter_one(next_step)

    def _enter_one(self, step_id: str) -> str | None:
        step = self.journey.step(step_id)
        if step is None:
            raise _Stop(f"step {step_id!r} does not exist in this journey version")
        self.state = _replace(
            self.state,
            step_id=step_id,
            entered_at=self.now,
            visit=self.state.visit + 1,
            wake_at=None,
            rescheduled_at=None,
        )
        self.path.append(step_id)
        self.record(
            LogKind.STEP_ENTERED,
            step_id=step_id,
            message=f"entered {step.step.label or step_id} ({step.type.name})",
            data={"visit": self.state.visit, "node_type": step.type.name},
        )
        outcome = self._run_node(step)
        if isinstance(outcome, Fail):
            raise _Stop(f"step {step_id!r} ({step.type.name}) failed: {outcome.reason}")
        self._plan(step, outcome.actions)
        if isinstance(outcome, Advance):
            edge = next((e for e in step.outgoing if e.id == outcome.edge_id), None)
            if edge is None:
                raise _Stop(
                    f"step {step_id!r} ({step.type.name}) chose edge {outcome.edge_id!r}, "
                    "which does not leave it"
                )
            return self._take(edge, reason=f"chosen by {step.type.name}")
        if isinstance(outcome, Complete):
            self.finish("completed", outcome=outcome.outcome)
            return None
        if not step.outgoing:
            if step.type.terminal:
                self.finish("completed", outcome="completed")
                return None
            self.record(
                LogKind.STEP_DEAD_END,
                step_id=step_id,
                message=f"step {step_id!r} has no outgoing edge",
            )
            self.finish("completed", outcome="dead_end")
            return None
        return self._settle(step)

    def _run_node(self, step: CompiledStep) -> Stay | Advance | Complete | Fail:
        context = NodeContext(
            node_id=step.id,
            label=step.step.label,
            config=step.config,
            now=self.now,
            contact=self.contact,
            variables=self.state.variables,
            event=self.event,
            outgoing=step.views,
            evaluate=self.scope.bind(self.event),
            studio_timezone=self.journey.studio_timezone,
            enrollment_id=self.state.enrollment_id,
            visit=self.state.visit,
        )
        try:
            outcome: object = step.type.on_enter(context)
        except Exception as exc:  # a node type's bug must not take the engine down
            raise _Stop(
                f"step {step.id!r} ({step.type.name}) raised {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self.report_condition_errors(step.id)
        if not isinstance(outcome, Stay | Advance | Complete | Fail):
            raise _Stop(
                f"step {step.id!r} ({step.type.name}) returned {type(outcome).__name__}, "
                "not Stay, Advance, Complete or Fail"
            )
        return outcome

    def _plan(self, step: CompiledStep, requests: Sequence[ActionRequest]) -> None:
        # All of a step's requests are checked before any is kept: a step that fails
        # plans nothing (earlier steps of the same call keep theirs).
        planned: list[PlannedAction] = []
        seen: set[str] = set()
        for request in requests:
            if not isinstance(request, ActionRequest):
                raise _Stop(
                    f"step {step.id!r} ({step.type.name}) asked for a "
                    f"{type(request).__name__}, not an ActionRequest"
                )
            if request.key in seen:
                raise _Stop(
                    f"step {step.id!r} ({step.type.name}) asked for two actions with the "
                    f"key {request.key!r}; give each a distinct key"
                )
            seen.add(request.key)
            key = f"{self.state.enrollment_id}:{self.state.visit}:{step.id}:{request.key}"
            try:
                config = msgspec.to_builtins(request.config)
            except (TypeError, msgspec.EncodeError) as exc:
                raise _Stop(
                    f"step {step.id!r} ({step.type.name}): the {request.executor!r} action's "
                    f"config cannot be stored: {exc}"
                ) from exc
            planned.append(
                PlannedAction(
                    idempotency_key=key,
                    executor=request.executor,
                    config=config,
                    step_id=step.id,
                )
            )
        for action, request in zip(planned, requests, strict=True):
            self.actions.append(action)
            self.record(
                LogKind.ACTION_PLANNED,
                step_id=step.id,
                message=f"{action.executor} action planned",
                data={
                    "executor": action.executor,
                    "idempotency_key": action.idempotency_key,
                    "key": request.key,
                },
            )

    def _take(self, edge: CompiledEdge, *, reason: str) -> str:
        self.transitions += 1
        limit = self.journey.settings.max_transitions
        if self.transitions > limit:
            raise _Stop(self._loop_message(edge.edge.target, limit))
        data: dict[str, Any] = {
            "trigger": edge.type.name,
            "source": edge.edge.source,
            "target": edge.edge.target,
        }
        if self.event is not None:
            data["event_id"] = self.event.id
            data["event_type"] = self.event.type
        self.record(
            LogKind.EDGE_TAKEN,
            step_id=edge.edge.source,
            edge_id=edge.id,
            message=f"{edge.edge.source} → {edge.edge.target} ({reason})",
            data=data,
        )
        return edge.edge.target

    def _loop_message(self, target: str, limit: int) -> str:
        if target in self.path:
            start = len(self.path) - 1 - self.path[::-1].index(target)
            loop = [*self.path[start:], target]
            where = "a loop through steps " + " → ".join(repr(s) for s in loop)
        else:
            where = "steps ending " + " → ".join(repr(s) for s in self.path[-5:])
        return (
            f"more than {limit} transitions in one go ({where}); "
            "add a wait or a time-based trigger, or raise max_transitions"
        )

    # -- evaluating edges -------------------------------------------------------------

    def _settle(self, step: CompiledStep) -> str | None:
        """After ``Stay``: take the first edge that fires now, else schedule a wake-up."""
        fired, wake, _ = self._evaluate(step, step.outgoing, None)
        if fired is not None:
            return self._take(fired, reason=fired.type.name)
        self._schedule(wake, LogKind.WAKE_SCHEDULED)
        return None

    def _schedule(self, wake: datetime | None, kind: LogKind) -> None:
        previous = self.state.wake_at
        self.state = _replace(self.state, wake_at=wake)
        if wake is not None and wake != previous:
            data: dict[str, Any] = {"wake_at": wake.isoformat()}
            if kind == LogKind.WAKE_RESCHEDULED:
                data["previous"] = previous.isoformat() if previous else None
            self.record(kind, step_id=self.state.step_id, message=f"wake at {wake}", data=data)
        elif wake is None and previous is not None and kind == LogKind.WAKE_RESCHEDULED:
            self.record(
                kind,
                step_id=self.state.step_id,
                message="no time-based edge is pending any more",
                data={"wake_at": None, "previous": previous.isoformat()},
            )

    def _evaluate(
        self,
        step: CompiledStep,
        edges: Iterable[CompiledEdge],
        event: EventView | None,
        *,
        rescheduled_at: datetime | None = None,
        fire: bool = True,
    ) -> tuple[CompiledEdge | None, datetime | None, list[tuple[str, str]]]:
        """Ask ``edges`` in order; return the first due one, the earliest wake, reasons."""
        entered_at = self.state.entered_at or self.now
        reference = rescheduled_at or self.state.rescheduled_at
        wake: datetime | None = None
        reasons: list[tuple[str, str]] = []
        evaluate = self.scope.bind(event)
        for edge in edges:
            context = TriggerContext(
                edge_id=edge.id,
                config=edge.config,
                now=self.now,
                entered_at=entered_at,
                contact=self.contact,
                variables=self.state.variables,
                event=event,
                studio_timezone=self.journey.studio_timezone,
                evaluate=evaluate,
                step_id=step.id,
                enrollment_id=self.state.enrollment_id,
                rescheduled_at=reference,
                visit=self.state.visit,
            )
            try:
                decision: object = edge.type.evaluate(context)
            except Exception as exc:  # a trigger type's bug must not take the engine down
                raise _Stop(
                    f"edge {edge.id!r} ({edge.type.name}) raised {type(exc).__name__}: {exc}"
                ) from exc
            finally:
                self.report_condition_errors(step.id, edge.id)
            if isinstance(decision, Fire):
                if fire:
                    return edge, wake, reasons
                when = self.now
            elif isinstance(decision, FireAt):
                if decision.at.tzinfo is None:
                    raise _Stop(
                        f"edge {edge.id!r} ({edge.type.name}) answered a naive time "
                        f"{decision.at.isoformat()}; times must be timezone-aware"
                    )
                when = to_utc(decision.at)
                if fire and when <= self.now:
                    return edge, wake, reasons
            elif isinstance(decision, NotYet):
                reasons.append((edge.id, decision.reason))
                continue
            else:
                raise _Stop(
                    f"edge {edge.id!r} ({edge.type.name}) returned "
                    f"{type(decision).__name__}, not Fire, FireAt or NotYet"
                )
            wake = when if wake is None else min(wake, when)
        return None, wake, reasons

    # -- the entry points after start ---------------------------------------------------

    def on_event(self) -> None:
        event = self.event
        assert event is not None
        for index, criteria in enumerate(self.journey.settings.exits):
            if criteria.event_type != event.type:
                continue
            matched = criteria.filter is None or self.scope.evaluate(criteria.filter, event)
            self.report_condition_errors(self.state.step_id)
            if not matched:
                continue
            name = criteria.name or f"exit {index}"
            self.record(
                LogKind.EXIT_MATCHED,
                step_id=self.state.step_id,
                message=f"{name}: {event.type}",
                data={"exit": name, "goal": criteria.goal, "event_id": event.id},
            )
            if criteria.goal:
                self.finish("completed", outcome="goal")
            else:
                self.finish("exited", outcome=criteria.name or event.type)
            return
        step = self.current()
        listening = [e for e in step.outgoing if e.listens_to(event.type)]
        if not listening:
            return
        fired, _, reasons = self._evaluate(step, listening, event)
        if fired is None:
            self.record(
                LogKind.EVENT_IGNORED,
                step_id=step.id,
                message=f"{event.type} moved nobody on from {step.id!r}",
                data={
                    "event_id": event.id,
                    "event_type": event.type,
                    "reasons": {edge_id: reason for edge_id, reason in reasons},
                },
            )
            return
        target = self._take(fired, reason=f"{fired.type.name} on {event.type}")
        self.enter(target)

    def on_tick(self) -> None:
        step = self.current()
        fired, wake, _ = self._evaluate(step, step.outgoing, None)
        if fired is None:
            self._schedule(wake, LogKind.WAKE_SCHEDULED)
            return
        self.enter(self._take(fired, reason=fired.type.name))

    def on_recompute(self) -> None:
        step = self.current()
        if self.state.wake_at is not None and self.state.wake_at <= self.now:
            return
        _, wake, _ = self._evaluate(step, step.outgoing, None, rescheduled_at=self.now, fire=False)
        self.state = _replace(self.state, rescheduled_at=self.now)
        self._schedule(wake, LogKind.WAKE_RESCHEDULED)
