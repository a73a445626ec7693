"""Tasks: to-dos for a vendor or the couple; completing one emits ``task.completed``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["Approval", "Task", "TaskStatus"]

TaskStatus = Literal["open", "completed", "cancelled"]


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    """One person's sign-off (a task may need both partners)."""

    by: str
    at: datetime


class Task(msgspec.Struct, frozen=True, kw_only=True):
    """A to-do. ``assignee`` is ``vendor`` or ``client`` (or a vendor type / user id).

    It completes when ``required_approvals`` approvals are in.
    """

    id: str
    organization_id: str
    title: str
    assignee: str
    status: TaskStatus = "open"
    contact_id: str | None = None
    enrollment_id: str | None = None
    action_run_id: str | None = None
    step_id: str | None = None
    due_at: datetime | None = None
    required_approvals: int = 1
    approvals: tuple[Approval, ...] = ()
    details: dict[str, Any] = {}
    created_at: datetime | None = None
    completed_at: datetime | None = None
