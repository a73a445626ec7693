"""The pure journey engine: (journey, state, event or clock) → (new state, effects).

No I/O happens here. The storage layer loads a :class:`CompiledJourney` and an
:class:`~aisle.domain.EnrollmentState`, calls one of the functions below and writes
the returned :class:`~aisle.engine.effects.Transition` in one transaction.

Status: signatures fixed; implementation owned by the engine work.
"""

from __future__ import annotations

from datetime import datetime

from aisle.domain.contact import Contact
from aisle.domain.enrollment import EnrollmentState
from aisle.domain.event import Event
from aisle.domain.journey import Graph
from aisle.engine.effects import Transition
from aisle.plugins.manager import Registry

__all__ = [
    "CompiledJourney",
    "compile_journey",
    "handle_event",
    "matches_entry",
    "recompute",
    "start",
    "tick",
]


class CompiledJourney:
    """A published graph with its types resolved and CEL programs compiled once."""

    graph: Graph
    journey_id: str
    version: int
    studio_timezone: str


def compile_journey(
    graph: Graph,
    registry: Registry,
    *,
    journey_id: str,
    version: int,
    studio_timezone: str = "UTC",
) -> CompiledJourney:
    """Resolve types and compile conditions; raises ``InvalidJourney`` with the issues."""
    raise NotImplementedError


def matches_entry(journey: CompiledJourney, contact: Contact, event: Event) -> bool:
    """Whether ``event`` enrolls ``contact`` under the journey's entry criteria."""
    raise NotImplementedError


def start(
    journey: CompiledJourney,
    enrollment_id: str,
    contact: Contact,
    now: datetime,
    event: Event | None = None,
) -> Transition:
    """Enroll: enter the start step and chain immediate transitions."""
    raise NotImplementedError


def handle_event(
    journey: CompiledJourney,
    state: EnrollmentState,
    contact: Contact,
    event: Event,
    now: datetime,
) -> Transition:
    """Apply an event: exit criteria first, then the current step's triggers."""
    raise NotImplementedError


def tick(
    journey: CompiledJourney, state: EnrollmentState, contact: Contact, now: datetime
) -> Transition:
    """The clock reached ``state.wake_at`` (or later): fire due time-based triggers."""
    raise NotImplementedError


def recompute(
    journey: CompiledJourney, state: EnrollmentState, contact: Contact, now: datetime
) -> Transition:
    """A date field changed: recompute ``wake_at`` for the current step, fire nothing."""
    raise NotImplementedError
