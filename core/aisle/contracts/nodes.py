"""What the engine hands to node types, what they hand back, and how one is registered.

Node types are pure: they receive everything they may look at in a context object and
answer with a value. They never do I/O; side effects are requested as
:class:`ActionRequest` values, which the storage layer writes to the outbox in the same
transaction as the state change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.cel import ConditionEvaluator
from aisle.contracts.events import EventView
from aisle.contracts.registrations import EmptyConfig, Registration

__all__ = [
    "ActionRequest",
    "Advance",
    "Complete",
    "EdgeView",
    "Fail",
    "NodeContext",
    "NodeOutcome",
    "NodeType",
    "Stay",
]


class EdgeView(msgspec.Struct, frozen=True, kw_only=True):
    """An outgoing edge of the step being entered (used by branching node types)."""

    id: str
    target: str
    trigger: str
    config: Mapping[str, Any]
    source_handle: str | None = None
    priority: int = 0


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


@dataclass(frozen=True, kw_only=True)
class NodeType(Registration):
    """A kind of step on the canvas.

    ``on_enter`` is pure: given a :class:`NodeContext` it returns what happens next
    (stay, advance along an edge, complete, fail) and the actions to run. ``handles``
    names fixed output handles (a canvas draws one connection point each);
    ``dynamic_handles`` says outgoing edges may use handles of their own (a decision's
    branches).
    """

    on_enter: Callable[[NodeContext], NodeOutcome]
    config: type[msgspec.Struct] = EmptyConfig
    icon: str = ""
    category: str = "action"
    handles: Sequence[str] = ()
    dynamic_handles: bool = False
    terminal: bool = False
    context_fields: Sequence[str] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_struct("node type", self.config)
