"""Collaboration: who has which journey open (presence sessions) and which steps and
connections they hold edit or view leases on, every journey on one page; admins force
a lease (or all of a journey's) free when its holder went away without letting go.

Read through :class:`~aisle.collab.PresenceService` and :class:`~aisle.collab.LockService`
in two queries for the whole studio; a force release goes through
:meth:`~aisle.collab.LockService.force_release`, which logs it and tells the people on
the journey.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from aisle.collab import LockService, LockTarget, PresenceService
from aisle.services.studio_reads import StudioReads
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, refusal, see
from aisle_dashboard.journey_call import call_for, collaboration
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["COLLABORATION_HANDLERS"]

_KINDS = ("node", "edge")


async def _page(
    request: Request[Any, Any, Any], *, status_code: int = 200, error: str = ""
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    call = call_for(request, session)
    try:
        collab = collaboration(call)
        sessions = await PresenceService(collab, call.scope, call.caller).studio_sessions()
        leases = await LockService(collab, call.scope, call.caller).studio_leases()
    except REFUSALS as exc:
        status_code, error = refusal(exc)
        sessions, leases = [], []
    journeys: dict[str, dict[str, list[Any]]] = {}
    for s in sessions:
        journeys.setdefault(s.journey_id, {"sessions": [], "locks": []})["sessions"].append(s)
    for lock in leases:
        journeys.setdefault(lock.journey_id, {"sessions": [], "locks": []})["locks"].append(lock)
    names = await StudioReads(session.scope).names()
    return page(
        request,
        "collaboration.html",
        status_code=status_code,
        session=session,
        active="collaboration",
        journeys=sorted(journeys.items(), key=lambda item: names.journey(item[0]).casefold()),
        names=names,
        error=error,
    )


@get("/collaboration", name="dashboard:collaboration")
async def collaboration_page(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _page(request)


@post(
    "/collaboration/{journey_id:str}/release",
    name="dashboard:collaboration-release",
    status_code=303,
)
async def force_release(
    request: Request[Any, Any, Any], journey_id: FromPath[str]
) -> Response[Any]:
    """Drop one lease (``target_kind`` and ``target_id`` given) or all of a journey's."""
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    form = await request.form()
    kind, target_id = str(form.get("target_kind") or ""), str(form.get("target_id") or "")
    targets = None
    if target_id and kind in _KINDS:
        targets = [LockTarget("node" if kind == "node" else "edge", target_id)]
    call = call_for(request, session)
    try:
        service = LockService(collaboration(call), call.scope, call.caller)
        await service.force_release(journey_id, targets, reason="released from the dashboard")
    except REFUSALS as exc:
        status_code, detail = refusal(exc)
        return await _page(request, status_code=status_code, error=detail)
    return see("/collaboration")


COLLABORATION_HANDLERS = (collaboration_page, force_release)
