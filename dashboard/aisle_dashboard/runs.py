"""Action runs: the outbox filtered by journey, executor and status; one run with its
attempts (the automation log's entries for it) and last error; retry and cancel
(admins, through :mod:`aisle.services.run_admin`, which logs who did it)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aisle.domain.action_run import ActionRunStatus
from aisle.services.roles import ensure_role
from aisle.services.run_admin import cancel_run, retry_run
from aisle.services.studio_reads import StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, listing, refusal, see
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context, signed_in

__all__ = ["RUN_HANDLERS"]

_PAGE = 50
_STATUSES = [s.value for s in ActionRunStatus]
_FINISHED = {"succeeded", "dead", "cancelled"}


@get("/runs", name="dashboard:runs")
async def runs(
    request: Request[Any, Any, Any],
    journey: FromQuery[str] = "",
    executor: FromQuery[str] = "",
    status: FromQuery[str] = "",
    cursor: FromQuery[str] = "",
) -> Response[Any]:
    listed = await listing(
        request,
        cursor,
        _PAGE,
        lambda session, before, limit: session.scope.action_runs.list(
            status=ActionRunStatus(status) if status in _STATUSES else None,
            journey_id=journey or None,
            executor=executor or None,
            limit=limit,
            before=before,
        ),
    )
    if listed is None:
        return NOT_SIGNED_IN
    rows = listed.rows
    return page(
        request,
        "runs.html",
        session=listed.session,
        active="runs",
        runs=rows,
        names=await listed.reads.names(contact_ids=[r.contact_id for r in rows]),
        journeys=await listed.reads.journeys(),
        executors=sorted(app_context(request).registry.action_executors),
        statuses=_STATUSES,
        chosen={"journey": journey, "executor": executor, "status": status},
        next_page=listed.next_page,
    )


async def _run_page(
    request: Request[Any, Any, Any], run_id: str, *, status_code: int = 200, error: str = ""
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    reads = StudioReads(session.scope)
    run = await reads.run(run_id)
    if run is None:
        return page(
            request, "not_found.html", status_code=404, session=session, path=request.url.path
        )
    attempts = await session.scope.log.list(action_run_id=run.id, limit=200)
    names = await reads.names(contact_ids=[run.contact_id], actors=[e.actor for e in attempts])
    return page(
        request,
        "run.html",
        status_code=status_code,
        session=session,
        active="runs",
        run=run,
        entries=attempts,
        names=names,
        finished=run.status in _FINISHED,
        retryable=run.status in {"dead", "cancelled"},
        error=error,
    )


@get("/runs/{run_id:str}", name="dashboard:run")
async def run_detail(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[Any]:
    return await _run_page(request, run_id)


async def _act(request: Request[Any, Any, Any], run_id: str, *, retry: bool) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    run = await StudioReads(session.scope).run(run_id)
    if run is None:
        return await _run_page(request, run_id)
    act = retry_run if retry else cancel_run
    try:
        ensure_role(session, "admin", "retrying an action run" if retry else "cancelling one")
        await act(
            app_context(request).require_runtime(),
            session.organization.id,
            run.id,
            actor=session.actor,
        )
    except REFUSALS as exc:
        status_code, detail = refusal(exc)
        return await _run_page(request, run_id, status_code=status_code, error=detail)
    return see(f"/runs/{run.id}")


@post("/runs/{run_id:str}/retry", name="dashboard:run-retry", status_code=303)
async def run_retry(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[Any]:
    return await _act(request, run_id, retry=True)


@post("/runs/{run_id:str}/cancel", name="dashboard:run-cancel", status_code=303)
async def run_cancel(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[Any]:
    return await _act(request, run_id, retry=False)


RUN_HANDLERS = (runs, run_detail, run_retry, run_cancel)
