"""Action runs (the outbox): list, read, retry a dead one, cancel one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from msgspec import Meta

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QueryId, page_of
from aisle.domain.action_run import ActionRun, ActionRunStatus
from aisle.services.roles import ensure_role
from aisle.services.run_admin import cancel_run, retry_run

__all__ = ["ActionRunController"]

Id = Annotated[str, Meta(min_length=1, max_length=200)]


class ActionRunOut(msgspec.Struct, kw_only=True):
    id: str
    executor: str
    config: dict[str, Any]
    idempotency_key: str
    status: ActionRunStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    contact_id: str | None
    enrollment_id: str | None
    journey_id: str | None
    journey_version: int | None
    step_id: str | None
    result: dict[str, Any] | None
    last_error: str | None
    created_at: datetime | None
    updated_at: datetime | None
    finished_at: datetime | None


def run_out(run: ActionRun) -> ActionRunOut:
    return ActionRunOut(**{f: getattr(run, f) for f in ActionRunOut.__struct_fields__})


class ActionRunPage(msgspec.Struct, kw_only=True):
    items: list[ActionRunOut]
    next_cursor: str | None


class ActionRunController(Controller):
    path = "/action-runs"
    tags = ["action runs"]

    @get("/", summary="List action runs (newest first)")
    async def list_runs(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: FromQuery[ActionRunStatus | None] = None,
        contact_id: QueryId = None,
        enrollment_id: QueryId = None,
        executor: QueryId = None,
        journey_id: QueryId = None,
    ) -> ActionRunPage:
        runs = await call.scope.action_runs.list(
            status=status,
            contact_id=contact_id,
            enrollment_id=enrollment_id,
            executor=executor,
            journey_id=journey_id,
            limit=limit + 1,
            before=cursor,
        )
        page, next_cursor = page_of(runs, limit, lambda r: r.id)
        return ActionRunPage(items=[run_out(r) for r in page], next_cursor=next_cursor)

    @get("/{run_id:str}", summary="Read an action run")
    async def get_run(self, call: Call, run_id: FromPath[str]) -> ActionRunOut:
        return run_out(await call.scope.action_runs.get(run_id))

    @post("/{run_id:str}/retry", summary="Queue a dead or cancelled run again", status_code=200)
    async def retry(self, call: Call, run_id: FromPath[str]) -> ActionRunOut:
        return await _admin_act(call, run_id, retry_run, "retrying an action run")

    @post("/{run_id:str}/cancel", summary="Cancel a run that has not finished", status_code=200)
    async def cancel(self, call: Call, run_id: FromPath[str]) -> ActionRunOut:
        return await _admin_act(call, run_id, cancel_run, "cancelling an action run")


async def _admin_act(
    call: ApiCall, run_id: str, act: Callable[..., Awaitable[ActionRun]], what: str
) -> ActionRunOut:
    """``act`` (retry, cancel) on a run of the caller's organization, as an admin."""
    run = await call.scope.action_runs.get(run_id)
    ensure_role(call.caller, "admin", what)
    return run_out(
        await act(call.runtime, call.caller.organization_id, run.id, actor=call.caller.actor)
    )
