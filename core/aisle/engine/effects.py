"""What one engine step produces besides the new state: action runs and log records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.log import LogKind
from aisle.domain.enrollment import EnrollmentState

__all__ = ["LogRecord", "PlannedAction", "Transition"]


class PlannedAction(msgspec.Struct, frozen=True, kw_only=True):
    """An action run to write to the outbox with the state change that caused it.

    ``not_before`` defers the run (a send window); ``None`` means as soon as possible.
    """

    idempotency_key: str
    executor: str
    config: Mapping[str, Any]
    step_id: str
    not_before: datetime | None = None


class LogRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the automation log (append-only audit).

    ``kind`` is one of the engine's :class:`~aisle.contracts.log.LogKind` members
    (``enrollment.started``, ``step.entered``, ``edge.taken``, ``wake.scheduled``, …).
    """

    kind: LogKind
    at: datetime
    step_id: str | None = None
    edge_id: str | None = None
    message: str = ""
    data: Mapping[str, Any] = {}


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """The engine's answer: the new state and the effects to persist atomically."""

    state: EnrollmentState
    actions: tuple[PlannedAction, ...] = ()
    log: tuple[LogRecord, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.actions or self.log)
