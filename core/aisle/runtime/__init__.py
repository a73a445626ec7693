"""The service layer: the pure engine wrapped with storage (events, enrollment, contacts)."""

from aisle.runtime.errors import (
    DateChangeNotConfirmed,
    EnrollmentRefused,
    RuntimeRefusal,
    UnknownContact,
)
from aisle.runtime.new_event import NewEvent
from aisle.runtime.service import MAX_EVENT_ATTEMPTS, Runtime

__all__ = [
    "MAX_EVENT_ATTEMPTS",
    "DateChangeNotConfirmed",
    "EnrollmentRefused",
    "NewEvent",
    "Runtime",
    "RuntimeRefusal",
    "UnknownContact",
]
