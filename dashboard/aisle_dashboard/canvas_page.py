"""The journey canvas page: a React Flow editor (``dashboard/canvas``, built into
``static/canvas``) that reads and writes the journey through the public API.

The page hands the editor what it cannot learn from the API: the journey's id, the
icons and category colours our pictures use, and the CSRF token that goes with the
sign-in session. The session reaches the API as the ``aisle_api_session`` cookie set
here (scoped to ``/api/v1``; the dashboard's own cookie stays under ``/dashboard``), so
the canvas acts as the signed-in user with no API token in the browser.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Redirect

from aisle.api.auth import SESSION_COOKIE, session_csrf_token
from aisle.api.canvas import canvas_for
from aisle.api.context import ApiCall, Caller
from aisle.domain.user import role_at_least
from aisle.services.refusals import REFUSALS
from aisle.services.sessions import Session
from aisle_dashboard.paths import BASE, STATIC
from aisle_dashboard.rendering import page
from aisle_dashboard.session import COOKIE_NAME, SESSION_LIFETIME, app_context, signed_in
from aisle_dashboard.svg.graph import CATEGORY_COLOURS, DEFAULT_COLOUR
from aisle_dashboard.svg.icons import CATEGORY_ICONS, ICONS, symbols

__all__ = ["CANVAS_HANDLERS", "ICON_PREFIX", "canvas_url"]

API_BASE = "/api/v1"
ICON_PREFIX = "canvas"
CANVAS_STATIC = f"{STATIC}/canvas"


def canvas_url(journey_id: str) -> str:
    """Where a journey is drawn (the journey pages link "Edit on canvas" here)."""
    return f"{BASE}/journeys/{journey_id}/canvas"


def _looks() -> str:
    """Icons and colours as JSON for a ``<script type="application/json">`` (never run;
    ``<`` escaped so no value can close the element)."""
    looks = {
        "iconPrefix": ICON_PREFIX,
        "icons": sorted(ICONS),
        "categoryIcons": CATEGORY_ICONS,
        "colours": CATEGORY_COLOURS,
        "defaultColour": DEFAULT_COLOUR,
    }
    return json.dumps(looks).replace("<", "\\u003c")


def _call(request: Request[Any, Any, Any], session: Session) -> ApiCall:
    caller = Caller(
        organization_id=session.organization.id,
        role=session.role,
        token_id=session.token_id or "",
        user_id=session.user_id,
    )
    return ApiCall(app_context(request), caller)


@get("/journeys/{journey_id:str}/canvas", name="dashboard:canvas")
async def canvas_page(request: Request[Any, Any, Any], journey_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return Redirect(f"{BASE}/login", status_code=303)
    try:
        journey = await canvas_for(_call(request, session)).journey(journey_id)
    except REFUSALS:
        return page(
            request, "not_found.html", status_code=404, session=session, path=request.url.path
        )
    secret = request.cookies.get(COOKIE_NAME, "")
    response = page(
        request,
        "canvas.html",
        session=session,
        active="journeys",
        journey=journey,
        api_base=API_BASE,
        canvas_static=CANVAS_STATIC,
        api_csrf=session_csrf_token(app_context(request).settings.secret_key, secret),
        can_edit=role_at_least(session.role, "editor"),
        icon_symbols=symbols(ICONS, ICON_PREFIX),
        looks=_looks(),
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=API_BASE,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    return response


CANVAS_HANDLERS = (canvas_page,)
