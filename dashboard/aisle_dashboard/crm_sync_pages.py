"""A CRM sync run as it goes and after: its progress (phase, records seen of the total,
rate) polled by htmx once a second while the run is queued or running, its counts and
each record that failed; cancel. And the changes syncs held for a person, confirmed or
rejected (:class:`~aisle.crm.held.HeldChanges`).

Polling the run row is the honest simple thing: the run is written by whichever
process executes it (in-process jobs or a dramatiq worker), and its row is the one
place its progress is kept.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aisle.crm.connections import ConnectionService
from aisle.crm.held import HeldChanges
from aisle.crm.runs import SyncRuns
from aisle.domain.sync_run import ACTIVE_STATUSES, SYNC_COUNTS, SyncRun
from aisle.services.sessions import Session
from aisle.services.studio_reads import StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, after, page_of, refusal, see
from aisle_dashboard.crm_common import crm_deps, missing
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["SYNC_HANDLERS"]

_FAILURES = 200
"""Failed records a run's page lists (the API answers them all)."""
_HELD = 50


def _view(run: SyncRun) -> dict[str, Any]:
    """What the progress fragment shows of ``run``."""
    going = run.status in ACTIVE_STATUSES
    total = run.total if run.total is not None else (run.seen if not going else None)
    return {
        "run": run,
        "going": going,
        "total": total,
        "percent": round(100 * run.seen / total) if total else (100 if not going else None),
        "counts": [(k, run.counts.get(k, 0)) for k in SYNC_COUNTS],
        "failures": [e for e in run.errors if "kind" in e or "row" in e][:_FAILURES],
        "causes": [e["reason"] for e in run.errors if "kind" not in e and "row" not in e],
    }


async def _run(request: Request[Any, Any, Any], session: Session, run_id: str) -> SyncRun | None:
    try:
        return await SyncRuns(crm_deps(request), session.scope, session).get(run_id)
    except REFUSALS:
        return None


async def _run_page(
    request: Request[Any, Any, Any], run_id: str, *, status_code: int = 200, error: str = ""
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    run = await _run(request, session, run_id)
    if run is None:
        return missing(request, session)
    connection = await ConnectionService(crm_deps(request), session.scope, session).get(
        run.connection_id
    )
    return page(
        request,
        "crm_run.html",
        status_code=status_code,
        session=session,
        active="crm",
        connection=connection,
        error=error,
        **_view(run),
    )


@get("/crm/runs/{run_id:str}", name="dashboard:crm-run")
async def run_detail(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[Any]:
    return await _run_page(request, run_id)


@get("/crm/runs/{run_id:str}/progress", name="dashboard:crm-run-progress")
async def run_progress(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[Any]:
    """The run's live part alone, for htmx to swap in; it stops asking once the run is
    over."""
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    run = await _run(request, session, run_id)
    if run is None:
        return missing(request, session)
    return page(request, "crm_progress.html", session=session, **_view(run))


@post("/crm/runs/{run_id:str}/cancel", name="dashboard:crm-run-cancel", status_code=303)
async def run_cancel(request: Request[Any, Any, Any], run_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    try:
        await SyncRuns(crm_deps(request), session.scope, session).cancel(run_id)
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _run_page(request, run_id, status_code=code, error=detail)
    return see(f"/crm/runs/{run_id}")


async def _held_page(
    request: Request[Any, Any, Any],
    *,
    connection: str = "",
    before: str = "",
    status_code: int = 200,
    error: str = "",
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    deps = crm_deps(request)
    found = await HeldChanges(deps, session.scope, session).list(
        connection_id=connection or None, limit=_HELD + 1, before=before or None
    )
    rows, next_cursor = page_of(found, _HELD, lambda h: h.id)
    connections = await ConnectionService(deps, session.scope, session).list()
    names = await StudioReads(session.scope).names(contact_ids=[h.contact_id for h in rows])
    return page(
        request,
        "crm_held.html",
        status_code=status_code,
        session=session,
        active="crm",
        held=rows,
        names=names,
        connections={c.id: c.name for c in connections},
        next_page=after(request, before=next_cursor) if next_cursor else None,
        error=error,
    )


@get("/crm/held", name="dashboard:crm-held")
async def held(
    request: Request[Any, Any, Any], connection: FromQuery[str] = "", before: FromQuery[str] = ""
) -> Response[Any]:
    return await _held_page(request, connection=connection, before=before)


async def _decide(request: Request[Any, Any, Any], held_id: str, *, confirm: bool) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    changes = HeldChanges(crm_deps(request), session.scope, session)
    try:
        await (changes.confirm(held_id) if confirm else changes.reject(held_id))
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _held_page(request, status_code=code, error=detail)
    return see("/crm/held")


@post("/crm/held/{held_id:str}/confirm", name="dashboard:crm-held-confirm", status_code=303)
async def confirm(request: Request[Any, Any, Any], held_id: FromPath[str]) -> Response[Any]:
    return await _decide(request, held_id, confirm=True)


@post("/crm/held/{held_id:str}/reject", name="dashboard:crm-held-reject", status_code=303)
async def reject(request: Request[Any, Any, Any], held_id: FromPath[str]) -> Response[Any]:
    return await _decide(request, held_id, confirm=False)


SYNC_HANDLERS = (run_detail, run_progress, run_cancel, held, confirm, reject)
