"""Tasks of one organization: created idempotently per action run, approved, completed."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import msgspec

from aisle.domain.task import Approval, Task, TaskStatus
from aisle.storage.errors import Conflict, NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import TaskTable as T

__all__ = ["TaskRepository", "task_from_row"]


def task_from_row(row: dict[str, Any]) -> Task:
    return from_row(Task, T, row)


class TaskRepository(Scoped):
    table = T
    kind = "task"

    async def create(
        self,
        *,
        title: str,
        assignee: str,
        contact_id: str | None = None,
        enrollment_id: str | None = None,
        action_run_id: str | None = None,
        step_id: str | None = None,
        due_at: datetime | None = None,
        required_approvals: int = 1,
        details: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[Task, bool]:
        """Create a task; with ``idempotency_key`` a repeat returns the first task."""
        if required_approvals < 1:
            raise ValueError("required_approvals must be at least 1")
        rows = await (
            T.insert(
                self._row(
                    id=new_id(),
                    title=title,
                    assignee=assignee,
                    status="open",
                    contact_id=contact_id,
                    enrollment_id=enrollment_id,
                    action_run_id=action_run_id,
                    step_id=step_id,
                    due_at=due_at,
                    required_approvals=required_approvals,
                    approvals="[]",
                    details=dump(details or {}),
                    idempotency_key=idempotency_key,
                    created_at=self.clock.now(),
                )
            )
            .on_conflict(target=(T.organization_id, T.idempotency_key), action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if rows:
            return task_from_row(rows[0]), True
        row = await self._first(T.idempotency_key == idempotency_key)
        assert row is not None
        return task_from_row(row), False

    async def get(self, task_id: str) -> Task:
        row = await self._first(T.id == task_id)
        if row is None:
            raise NotFound("task", task_id)
        return task_from_row(row)

    async def list(
        self,
        *,
        status: TaskStatus | None = None,
        contact_id: str | None = None,
        assignee: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Task]:
        rows = (
            await self._select(
                T.status == status if status else None,
                T.contact_id == contact_id if contact_id else None,
                T.assignee == assignee if assignee else None,
                T.id > after if after else None,
            )
            .order_by(T.id)
            .limit(limit)
        )
        return [task_from_row(r) for r in rows]

    async def approve(self, task_id: str, *, by: str) -> Task:
        """Record one approval; the task completes when enough are in.

        Approving twice as the same person counts once. Use inside a transaction (the
        runtime's ``complete_task`` does) so two approvals cannot race.
        """
        query = self._select(T.id == task_id)
        if self.db.is_postgres and self.db.in_transaction:
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None:
            raise NotFound("task", task_id)
        task = task_from_row(row)
        if task.status != "open":
            raise Conflict(f"task {task_id!r} is {task.status}", field="status")
        now = self.clock.now()
        approvals = task.approvals
        if all(a.by != by for a in approvals):
            approvals = (*approvals, Approval(by=by, at=now))
        values: dict[Any, Any] = {T.approvals: dump(approvals)}
        completed = len(approvals) >= task.required_approvals
        if completed:
            values[T.status] = "completed"
            values[T.completed_at] = now
        await self._update(values, T.id == task_id)
        return msgspec.structs.replace(
            task,
            approvals=approvals,
            status="completed" if completed else task.status,
            completed_at=now if completed else None,
        )

    async def open_for_step(self, enrollment_id: str, step_id: str) -> builtins.list[Task]:
        """The enrollment's open tasks tied to ``step_id`` (of every visit), oldest first."""
        rows = await self._select(
            T.enrollment_id == enrollment_id, T.step_id == step_id, T.status == "open"
        ).order_by(T.id)
        return [task_from_row(r) for r in rows]

    async def close(self, task_id: str, *, details: dict[str, Any]) -> Task | None:
        """Complete an open task without approvals (what it asked for happened some
        other way), replacing its ``details``; ``None`` when it is no longer open."""
        rows = await self._update(
            {T.status: "completed", T.completed_at: self.clock.now(), T.details: dump(details)},
            T.id == task_id,
            T.status == "open",
        ).returning(*T.all_columns())
        return task_from_row(rows[0]) if rows else None

    async def cancel(self, task_id: str) -> Task:
        rows = await self._update(
            {T.status: "cancelled"}, T.id == task_id, T.status == "open"
        ).returning(*T.all_columns())
        if not rows:
            task = await self.get(task_id)
            raise Conflict(f"task {task_id!r} is {task.status}", field="status")
        return task_from_row(rows[0])
