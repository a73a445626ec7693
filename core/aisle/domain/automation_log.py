"""The automation log: an append-only audit of transitions, actions, errors and admin acts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["LogEntry"]


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One audit line. ``kind`` is dotted (``step.entered``, ``action.attempt``, …);
    ``actor`` says who caused it (``system``, ``user:<id>``, ``token:<id>``)."""

    id: str
    organization_id: str
    at: datetime
    kind: str
    message: str = ""
    actor: str = "system"
    contact_id: str | None = None
    enrollment_id: str | None = None
    journey_id: str | None = None
    journey_version: int | None = None
    step_id: str | None = None
    edge_id: str | None = None
    action_run_id: str | None = None
    event_id: str | None = None
    data: dict[str, Any] = {}
