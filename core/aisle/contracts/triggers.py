"""What the engine hands to trigger types, what they answer, and how one is registered.

A trigger type decides when an enrollment may take an edge. Like node types it is pure:
it sees a context object and answers fire now, fire at a time, or not yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.cel import ConditionEvaluator
from aisle.contracts.events import EventView
from aisle.contracts.registrations import EmptyConfig, Registration

__all__ = [
    "ANY_EVENT",
    "Fire",
    "FireAt",
    "NotYet",
    "TriggerContext",
    "TriggerDecision",
    "TriggerType",
]

ANY_EVENT = "*"
"""Put in ``TriggerType.event_types`` to be evaluated on every event (``condition`` does)."""


class TriggerContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a trigger type's ``evaluate`` may look at.

    ``event`` is ``None`` when the engine asks on entering the step or on a clock tick.
    A ``FireAt`` whose time is not after ``now`` counts as due, like ``Fire``. Only
    the answer given without an event schedules a wake-up: a time must follow from what
    a tick can see again (``entered_at``, contact dates), not from one event's payload.
    """

    edge_id: str
    config: Any
    now: datetime
    entered_at: datetime
    contact: Mapping[str, Any]
    variables: Mapping[str, Any]
    event: EventView | None
    studio_timezone: str
    evaluate: ConditionEvaluator
    step_id: str = ""
    """The edge's source step (the step the enrollment is on)."""
    enrollment_id: str = ""
    rescheduled_at: datetime | None = None
    """When a date change last recomputed this step's wake-up, if it did.

    Date triggers judge "already past" against this (else ``entered_at``), so a date
    moved into the past is handled by the trigger's past-date policy consistently on
    every later evaluation.
    """
    visit: int = 0
    """The enrollment's visit count on entering this step (0 when unknown); an event
    about something a step created on an earlier pass carries an older visit."""


class Fire(msgspec.Struct, frozen=True, tag="fire"):
    """Take the edge now."""


class FireAt(msgspec.Struct, frozen=True, tag="fire_at"):
    """Take the edge when the clock reaches ``at`` (timezone-aware UTC)."""

    at: datetime


class NotYet(msgspec.Struct, frozen=True, tag="not_yet"):
    """Nothing to do until a matching event arrives (``reason`` helps simulation)."""

    reason: str = ""


TriggerDecision = Fire | FireAt | NotYet


@dataclass(frozen=True, kw_only=True)
class TriggerType(Registration):
    """A kind of edge: when the enrollment may move from the source step to the target.

    ``evaluate`` is pure and is called on entering the source step (``event`` is None),
    on every event of a type in ``event_types`` and when the clock reaches a time it
    returned. It answers fire now, fire at T, or not yet.
    """

    evaluate: Callable[[TriggerContext], TriggerDecision]
    config: type[msgspec.Struct] = EmptyConfig
    event_types: frozenset[str] = frozenset()
    icon: str = ""
    time_based: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_struct("trigger type", self.config)
