"""Aisle's domain as msgspec structs: the shapes the engine, storage and API share."""

from aisle.domain.contact import Contact, Partner
from aisle.domain.enrollment import EnrollmentState, EnrollmentStatus
from aisle.domain.event import EVENT_TYPES, Event
from aisle.domain.journey import (
    Edge,
    EntryCriteria,
    ExitCriteria,
    Graph,
    JourneySettings,
    Position,
    ReenrollmentPolicy,
    Step,
    Viewport,
)

__all__ = [
    "EVENT_TYPES",
    "Contact",
    "Edge",
    "EnrollmentState",
    "EnrollmentStatus",
    "EntryCriteria",
    "Event",
    "ExitCriteria",
    "Graph",
    "JourneySettings",
    "Partner",
    "Position",
    "ReenrollmentPolicy",
    "Step",
    "Viewport",
]
