"""What the engine hands to node and trigger types, and what they hand back.

Node types and trigger types are pure: they receive everything they may look at in a
context object and answer with a value. They never do I/O; side effects are requested
as :class:`ActionRequest` values, which the storage layer writes to the outbox in the
same transaction as the state change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

import msgspec

__all__ = [
    "ANY_EVENT",
    "CEL_MARKER",
    "ActionRequest",
    "Advance",
    "CelExpression",
    "Complete",
    "ConditionEvaluator",
    "EdgeView",
    "EventView",
    "Fail",
    "Fire",
    "FireAt",
    "NodeContext",
    "NodeOutcome",
    "NotYet",
    "Stay",
    "TriggerContext",
    "TriggerDecision",
]


ANY_EVENT = "*"
"""Put in ``TriggerType.event_types`` to be evaluated on every event (``condition`` does)."""

CEL_MARKER = "aisle_cel"
"""Key in ``msgspec.Meta(extra=...)`` marking a config field as a CEL expression."""

CelExpression = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        description="A CEL expression over contact, event, vars and now.",
        extra_json_schema={"format": "cel"},
        extra={CEL_MARKER: True},
    ),
]
"""A config field holding a CEL condition.

Fields of this type are compiled once when a journey is compiled (a syntax error is a
validation issue naming the node or edge and the field) and are what
``NodeContext.evaluate`` / ``TriggerContext.evaluate`` evaluate cheaply.
"""


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    """An event as node and trigger types see it."""

    type: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    id: str = ""


class EdgeView(msgspec.Struct, frozen=True, kw_only=True):
    """An outgoing edge of the step being entered (used by branching node types)."""

    id: str
    target: str
    trigger: str
    config: Mapping[str, Any]
    source_handle: str | None = None
    priority: int = 0


ConditionEvaluator = Callable[[str], bool]
"""Evaluates a CEL expression against the enrollment's activation (contact, event, vars)."""


class ActionRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A side effect a node asks for; becomes an action run in the outbox.

    ``key`` distinguishes several requests from one step visit; the engine derives the
    run's idempotency key from the enrollment, the visit and this key.
    """

    executor: str
    config: Mapping[str, Any]
    key: str = "main"


class NodeContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a node type's ``on_enter`` may look at.

    ``config`` is the step's config decoded into the node type's schema; ``contact`` is
    :meth:`~aisle.domain.Contact.activation` (what CEL sees as ``contact``); ``event``
    is the event that moved the enrollment here, if any; ``outgoing`` is in priority
    order. ``studio_timezone`` is the fallback when the contact has no timezone.
    """

    node_id: str
    label: str
    config: Any
    now: datetime
    contact: Mapping[str, Any]
    variables: Mapping[str, Any]
    event: EventView | None
    outgoing: Sequence[EdgeView]
    evaluate: ConditionEvaluator
    studio_timezone: str = "UTC"
    enrollment_id: str = ""
    visit: int = 0


class Stay(msgspec.Struct, frozen=True, tag="stay"):
    """Stay on the step; its outgoing edges' triggers decide when to move on."""

    actions: Sequence[ActionRequest] = ()


class Advance(msgspec.Struct, frozen=True, tag="advance"):
    """Leave the step at once along ``edge_id``."""

    edge_id: str
    actions: Sequence[ActionRequest] = ()


class Complete(msgspec.Struct, frozen=True, tag="complete"):
    """Finish the enrollment (goal reached or end of the journey)."""

    actions: Sequence[ActionRequest] = ()
    outcome: str = "completed"


class Fail(msgspec.Struct, frozen=True, tag="fail"):
    """Stop the enrollment with an error an admin must look at."""

    reason: str


NodeOutcome = Stay | Advance | Complete | Fail


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
