"""Tasks: the to-dos journeys left for the studio and couples; completing one (editors)
moves the couple on through the runtime, as the API's ``/tasks/{id}/complete`` does."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aisle.services.couple_acts import CoupleActs
from aisle.services.studio_reads import StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, after, page_of, refusal, see
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context, signed_in

__all__ = ["TASK_HANDLERS"]

_PAGE = 50
_STATUSES = ("open", "completed", "cancelled")


async def _tasks_page(
    request: Request[Any, Any, Any],
    *,
    status: str = "open",
    cursor: str = "",
    status_code: int = 200,
    error: str = "",
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    chosen = status if status in _STATUSES else "open"
    found = await session.scope.tasks.list(
        status=chosen,  # type: ignore[arg-type]
        limit=_PAGE + 1,
        after=cursor or None,
    )
    rows, next_cursor = page_of(found, _PAGE, lambda t: t.id)
    names = await StudioReads(session.scope).names(contact_ids=[t.contact_id for t in rows])
    return page(
        request,
        "tasks.html",
        status_code=status_code,
        session=session,
        active="tasks",
        tasks=rows,
        names=names,
        statuses=_STATUSES,
        chosen=chosen,
        error=error,
        next_page=after(request, cursor=next_cursor) if next_cursor else None,
    )


@get("/tasks", name="dashboard:tasks")
async def tasks(
    request: Request[Any, Any, Any], status: FromQuery[str] = "open", cursor: FromQuery[str] = ""
) -> Response[Any]:
    return await _tasks_page(request, status=status, cursor=cursor)


@post("/tasks/{task_id:str}/complete", name="dashboard:task-complete", status_code=303)
async def complete(request: Request[Any, Any, Any], task_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    acts = CoupleActs(app_context(request).require_runtime(), session.scope, session)
    try:
        await acts.complete_task(task_id)
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _tasks_page(request, status_code=code, error=detail)
    return see("/tasks")


TASK_HANDLERS = (tasks, complete)
