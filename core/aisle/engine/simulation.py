"""Simulation: run a journey for one contact on a virtual clock, with no side effects.

``simulate`` enrolls the contact at ``start_at`` and replays a script of events and the
wake-ups the engine asks for, in time order, until ``start_at + horizon``. The result
is a :class:`Timeline`: what would be sent, when, and along which path. It calls the
same pure engine functions storage does, so what it shows is what would happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from aisle.contracts.log import LogKind
from aisle.domain.contact import Contact
from aisle.domain.enrollment import EnrollmentState
from aisle.domain.event import Event
from aisle.engine.compiled import CompiledJourney
from aisle.engine.core import handle_event, recompute, start, tick
from aisle.engine.effects import PlannedAction, Transition
from aisle.engine.timing import require_aware, to_utc

__all__ = [
    "ScriptedEvent",
    "Timeline",
    "TimelineEntry",
    "TimelineKind",
    "simulate",
    "timeline_entries",
]

TimelineKind = Literal[
    "started",
    "event",
    "contact",
    "entered",
    "action",
    "edge",
    "wait",
    "ignored",
    "warning",
    "completed",
    "exited",
    "failed",
    "stopped",
]

_KINDS: Mapping[str, TimelineKind] = {
    LogKind.ENROLLMENT_STARTED: "started",
    LogKind.STEP_ENTERED: "entered",
    LogKind.ACTION_PLANNED: "action",
    LogKind.EDGE_TAKEN: "edge",
    LogKind.WAKE_SCHEDULED: "wait",
    LogKind.WAKE_RESCHEDULED: "wait",
    LogKind.EVENT_IGNORED: "ignored",
    LogKind.CONDITION_ERROR: "warning",
    LogKind.ENROLLMENT_COMPLETED: "completed",
    LogKind.ENROLLMENT_EXITED: "exited",
    LogKind.ENROLLMENT_FAILED: "failed",
}

MAX_ITERATIONS = 10_000
"""Engine calls one simulation may make (a guard; a sane journey needs far fewer)."""


class ScriptedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Something that happens during a simulation.

    ``contact``, when given, replaces the contact from ``at`` on (the wedding moved, a
    custom field changed): wake-ups are recomputed before the event is applied.
    """

    at: datetime
    type: str
    payload: dict[str, Any] = {}
    contact: Contact | None = None


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a simulated timeline.

    ``action`` entries carry the ``executor`` and ``config`` of what would be sent;
    ``wait`` entries carry the wake-up time in ``data["wake_at"]``.
    """

    at: datetime
    kind: TimelineKind
    step_id: str | None = None
    edge_id: str | None = None
    executor: str | None = None
    config: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    message: str = ""
    data: Mapping[str, Any] = {}


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    """A simulation's result: the entries in time order and the final state."""

    start_at: datetime
    end_at: datetime
    entries: tuple[TimelineEntry, ...]
    state: EnrollmentState
    actions: tuple[PlannedAction, ...] = ()

    @property
    def path(self) -> list[str]:
        """The steps entered, in order (a step entered twice appears twice)."""
        return [e.step_id for e in self.entries if e.kind == "entered" and e.step_id]

    @property
    def sent(self) -> list[TimelineEntry]:
        """The action entries: what would be sent or created, and when."""
        return [e for e in self.entries if e.kind == "action"]


def timeline_entries(transition: Transition) -> list[TimelineEntry]:
    """A transition's log as timeline entries (actions with executor and config)."""
    actions = {a.idempotency_key: a for a in transition.actions}
    entries: list[TimelineEntry] = []
    for record in transition.log:
        kind = _KINDS.get(record.kind)
        if kind is None:
            continue
        action = actions.get(str(record.data.get("idempotency_key", "")))
        entries.append(
            TimelineEntry(
                at=record.at,
                kind=kind,
                step_id=record.step_id,
                edge_id=record.edge_id,
                executor=action.executor if action else None,
                config=action.config if action else None,
                idempotency_key=action.idempotency_key if action else None,
                message=record.message,
                data=record.data,
            )
        )
    return entries


def simulate(
    compiled: CompiledJourney,
    contact: Contact,
    script: Sequence[ScriptedEvent],
    start_at: datetime,
    horizon: timedelta,
    *,
    entry: ScriptedEvent | None = None,
    enrollment_id: str = "simulation",
) -> Timeline:
    """Enroll ``contact`` at ``start_at`` (with ``entry`` as the enrolling event, if any)
    and run until ``start_at + horizon`` or until the enrollment ends.

    Scripted events and wake-ups are interleaved in time order; a wake-up due at the
    same instant as an event runs first. Raises ``ValueError`` for a naive time, a
    negative horizon or an event before ``start_at``.
    """
    begin = to_utc(require_aware(start_at, "start_at"))
    if horizon < timedelta(0):
        raise ValueError(f"horizon must not be negative, got {horizon}")
    end = begin + horizon
    events = _ordered(script, begin)

    entries: list[TimelineEntry] = []
    actions: list[PlannedAction] = []

    def apply(transition: Transition) -> EnrollmentState:
        entries.extend(timeline_entries(transition))
        actions.extend(transition.actions)
        return transition.state

    entry_event = _event(entry, "entry") if entry is not None else None
    state = apply(start(compiled, enrollment_id, contact, begin, entry_event))
    clock = begin
    index = 0
    for _ in range(MAX_ITERATIONS):
        if state.status != "active":
            break
        wake = state.wake_at
        upcoming = events[index] if index < len(events) else None
        if upcoming is not None and (wake is None or upcoming[1].at < wake):
            number, scripted = upcoming
            if scripted.at > end:
                break
            index += 1
            clock = max(clock, to_utc(scripted.at))
            entries.append(
                TimelineEntry(
                    at=clock,
                    kind="event",
                    step_id=state.step_id,
                    message=scripted.type,
                    data={"type": scripted.type, "payload": scripted.payload},
                )
            )
            if scripted.contact is not None:
                contact = scripted.contact
                entries.append(
                    TimelineEntry(
                        at=clock,
                        kind="contact",
                        step_id=state.step_id,
                        message="contact updated",
                        data={"wedding_date": contact.activation()["wedding_date"]},
                    )
                )
                state = apply(recompute(compiled, state, contact, clock))
            state = apply(
                handle_event(compiled, state, contact, _event(scripted, str(number)), clock)
            )
        elif wake is not None:
            if wake > end:
                break
            clock = max(clock, wake)
            state = apply(tick(compiled, state, contact, clock))
        else:
            break
    else:
        entries.append(
            TimelineEntry(
                at=clock,
                kind="stopped",
                step_id=state.step_id,
                message=f"stopped after {MAX_ITERATIONS} engine calls",
            )
        )
    return Timeline(
        start_at=begin, end_at=end, entries=tuple(entries), state=state, actions=tuple(actions)
    )


def _ordered(script: Iterable[ScriptedEvent], begin: datetime) -> list[tuple[int, ScriptedEvent]]:
    numbered = list(enumerate(script))
    for number, scripted in numbered:
        require_aware(scripted.at, f"script[{number}].at")
        if scripted.at < begin:
            raise ValueError(
                f"script[{number}] ({scripted.type}) at {scripted.at.isoformat()} is before "
                f"the simulation starts ({begin.isoformat()})"
            )
    # sorted() is stable: events at the same instant keep their script order.
    return sorted(numbered, key=lambda item: item[1].at)


def _event(scripted: ScriptedEvent, number: str) -> Event:
    return Event(
        id=f"simulated-{number}",
        type=scripted.type,
        contact_id=None,
        occurred_at=to_utc(scripted.at),
        idempotency_key=f"simulated-{number}",
        payload=dict(scripted.payload),
    )
