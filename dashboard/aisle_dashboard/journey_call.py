"""The API's per-call services for a dashboard session: the journeys pages act exactly as
an API call by the same user (or token) would, through the same constructors."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from aisle.api.canvas import canvas_for
from aisle.api.context import ApiCall, Caller
from aisle.api.routes.lifecycle import lifecycle_for
from aisle.canvas.service import CanvasService
from aisle.collab import Collaboration
from aisle.services.errors import Refused
from aisle.services.lifecycle import Lifecycle
from aisle.services.refusals import REFUSALS, refusal
from aisle.services.sessions import Session
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context

__all__ = [
    "REFUSALS",
    "call_for",
    "canvas",
    "collaboration",
    "lifecycle",
    "refusal_text",
    "refused_page",
]


def call_for(request: Request[Any, Any, Any], session: Session) -> ApiCall:
    """An API call as the session's user (or token), in the session's organization."""
    caller = Caller(
        organization_id=session.organization.id,
        role=session.role,
        token_id=session.token_id or "",
        user_id=session.user_id,
    )
    return ApiCall(app_context(request), caller)


def canvas(call: ApiCall) -> CanvasService:
    return canvas_for(call)


def lifecycle(call: ApiCall) -> Lifecycle:
    return lifecycle_for(call)


def collaboration(call: ApiCall) -> Collaboration:
    """The process's collaboration; 503 when it is not running (as the API answers)."""
    collab = call.ctx.collab
    if collab is None:
        raise Refused(503, "collaboration is not running in this process")
    return collab


def refusal_text(exc: Exception) -> list[str]:
    """What a refusal (one of :data:`REFUSALS`) says to a person: its sentence, then
    each located error."""
    if not isinstance(exc, Refused):
        return [refusal(exc)[1]]
    lines = [exc.detail]
    for error in exc.errors:
        where = error.field or error.node_id or error.edge_id
        line = f"{where}: {error.message}" if where else error.message
        if line not in lines and error.message not in exc.detail:
            lines.append(line)
    return lines


def refused_page(
    request: Request[Any, Any, Any], session: Session, exc: Exception
) -> Response[str]:
    """A whole page saying why (a journey of another studio is "not found", as in the
    API)."""
    status, _ = refusal(exc)
    if status == 404:
        return page(
            request, "not_found.html", status_code=404, session=session, path=request.url.path
        )
    return page(
        request,
        "journey_refused.html",
        status_code=status,
        session=session,
        active="journeys",
        errors=refusal_text(exc),
    )
