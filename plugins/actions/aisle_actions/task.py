"""The ``task`` executor: a to-do for a vendor or the couple, through the platform.

The ``vendor_action``, ``client_action`` and ``payment`` nodes ask for it. The task is
created by :meth:`~aisle.ActionServices.create_task`, idempotent per run, and is tied
to the step that asked, so completing it (``task.completed``) moves the client on.
The due time is given (``due_at``, computed when the step ran) or computed now from
``due`` (an offset from the wedding date or from now, in the couple's timezone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from aisle import (
    ActionContext,
    ActionExecutor,
    ActionResult,
    Due,
    PermanentError,
    due_at,
    run_bounded,
)
from aisle_actions.configs import decode_config
from aisle_actions.templates import render
from aisle_actions.wedding_context import wedding_context

__all__ = ["EXECUTOR", "TaskConfig", "execute"]

NAME = "task"


class TaskConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A to-do. ``title`` is a template over the wedding context.

    ``required_approvals`` is 2 when both partners must approve (a couple's to-do
    with partner approval required).
    """

    title: str = ""
    assignee: Literal["vendor", "client"] = "client"
    due_at: datetime | None = None
    due: Due | None = None
    required_approvals: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    details: dict[str, Any] = {}


async def execute(ctx: ActionContext) -> ActionResult:
    """Create the task (the same task when the run is repeated)."""
    config = decode_config(ctx.config, TaskConfig, NAME)
    if not config.title.strip():
        raise PermanentError("task config field 'title': a title is required")
    if config.due_at is not None and config.due_at.tzinfo is None:
        raise PermanentError("task config field 'due_at': give a timezone-aware time")
    context = wedding_context(ctx.contact, ctx.studio, ctx.now)
    # Templates are user code: rendered off the event loop, under time and memory bounds.
    title: str = await run_bounded(
        render, "title", config.title, context, organization=ctx.organization_id
    )
    studio_zone = str(ctx.studio.get("timezone") or "UTC")
    when = config.due_at or due_at(config.due, ctx.contact, ctx.now, studio_zone)
    details = dict(config.details)
    if config.due is not None and when is None:
        details["due_unresolved"] = "the contact has no wedding date to count from"
    task_id = await ctx.services.create_task(
        title=title.strip(),
        assignee=config.assignee,
        due_at=when,
        step_id=ctx.step_id,
        required_approvals=config.required_approvals,
        details=details,
    )
    return ActionResult(
        detail={
            "task_id": task_id,
            "assignee": config.assignee,
            "due_at": when.isoformat() if when else None,
            "required_approvals": config.required_approvals,
        }
    )


EXECUTOR = ActionExecutor(
    name=NAME,
    label="Create task",
    description="Create a to-do for a vendor or the couple, due relative to the wedding.",
    execute=execute,
    config=TaskConfig,
    max_attempts=10,
    timeout_seconds=30.0,
)
