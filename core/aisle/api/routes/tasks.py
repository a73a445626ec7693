"""Tasks: to-dos for vendors and couples; completing one emits ``task.completed``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta

from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QueryId, page_of
from aisle.domain.task import Approval, Task, TaskStatus
from aisle.services.roles import ensure_role

__all__ = ["TaskController"]

Id = Annotated[str, Meta(min_length=1, max_length=200)]


class TaskOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    assignee: str
    status: TaskStatus
    contact_id: str | None
    enrollment_id: str | None
    action_run_id: str | None
    step_id: str | None
    due_at: datetime | None
    required_approvals: int
    approvals: list[Approval]
    details: dict[str, Any]
    created_at: datetime | None
    completed_at: datetime | None


def task_out(task: Task) -> TaskOut:
    values = {f: getattr(task, f) for f in TaskOut.__struct_fields__}
    values["approvals"] = list(task.approvals)
    return TaskOut(**values)


class TaskPage(msgspec.Struct, kw_only=True):
    items: list[TaskOut]
    next_cursor: str | None


class CompleteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    approver: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    """Who approves (``partner1``, a name); default: the caller. A task needing both
    partners completes at the second distinct approver."""


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]

    @get("/", summary="List tasks")
    async def list_tasks(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: FromQuery[TaskStatus | None] = None,
        contact_id: QueryId = None,
        assignee: QueryId = None,
    ) -> TaskPage:
        tasks = await call.scope.tasks.list(
            status=status, contact_id=contact_id, assignee=assignee, limit=limit + 1, after=cursor
        )
        page, next_cursor = page_of(tasks, limit, lambda t: t.id)
        return TaskPage(items=[task_out(t) for t in page], next_cursor=next_cursor)

    @get("/{task_id:str}", summary="Read a task")
    async def get_task(self, call: Call, task_id: FromPath[str]) -> TaskOut:
        return task_out(await call.scope.tasks.get(task_id))

    @post("/{task_id:str}/complete", summary="Approve or complete a task", status_code=200)
    async def complete_task(
        self, call: Call, task_id: FromPath[str], data: JSONBody[CompleteIn]
    ) -> TaskOut:
        task = await call.scope.tasks.get(task_id)
        ensure_role(call.caller, "editor", "completing a task")
        done = await call.runtime.complete_task(
            call.caller.organization_id, task.id, by=data.approver or call.caller.actor
        )
        return task_out(done)
