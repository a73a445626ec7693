"""The dashboard's routes: the router under ``/dashboard`` and the app-level redirects.

Every page asks :func:`~aisle_dashboard.session.signed_in` first and sends a signed-out
browser to the sign-in form; what a page shows comes from the services the API calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from aisle_dashboard.canvas_page import CANVAS_HANDLERS
from aisle_dashboard.collaboration import COLLABORATION_HANDLERS
from aisle_dashboard.couples import COUPLE_HANDLERS
from aisle_dashboard.crm_pages import CRM_HANDLERS
from aisle_dashboard.csrf import DashboardCSRF
from aisle_dashboard.journey_handlers import JOURNEY_HANDLERS
from aisle_dashboard.log import LOG_HANDLERS
from aisle_dashboard.login import LOGIN_HANDLERS
from aisle_dashboard.messages import MESSAGE_HANDLERS
from aisle_dashboard.overview import OVERVIEW_HANDLERS
from aisle_dashboard.paths import API_REFERENCE, BASE, OPENAPI_JSON
from aisle_dashboard.plugins_page import PLUGIN_HANDLERS
from aisle_dashboard.rendering import page
from aisle_dashboard.runs import RUN_HANDLERS
from aisle_dashboard.session import signed_in
from aisle_dashboard.settings_page import SETTINGS_HANDLERS
from aisle_dashboard.tasks import TASK_HANDLERS

__all__ = ["APP_HANDLERS", "create_router"]

_STATIC_DIR = Path(__file__).parent / "static"


@get("/api", name="dashboard:api-reference")
async def api_reference(request: Request[Any, Any, Any]) -> Response[Any]:
    """The API reference (Swagger UI, offline) of the app's OpenAPI document; public,
    as the document is."""
    return page(
        request,
        "api_reference.html",
        session=await signed_in(request),
        active="api",
        openapi_url=OPENAPI_JSON,
    )


@get("/{path:path}", name="dashboard:not-found")
async def not_found(request: Request[Any, Any, Any]) -> Response[Any]:
    """Any other dashboard URL: a page saying so (a browser gets HTML, not a problem
    document)."""
    return page(
        request,
        "not_found.html",
        status_code=404,
        session=await signed_in(request),
        path=request.url.path,
    )


@get("/", name="dashboard:root", include_in_schema=False)
async def root() -> Redirect:
    """The app's root leads to the dashboard (which sends a stranger to sign in)."""
    return Redirect(f"{BASE}/", status_code=302)


@get("/schema/swagger", name="dashboard:swagger", include_in_schema=False)
async def swagger() -> Redirect:
    """Where Litestar apps usually show Swagger UI: ours is the dashboard's, offline."""
    return Redirect(API_REFERENCE, status_code=302)


APP_HANDLERS = (root, swagger)
"""Handlers at the app's own paths, outside ``/dashboard``."""


def create_router() -> Router:
    """A fresh router for one app (the CSRF middleware keeps per-app state)."""
    static = create_static_files_router(
        path="/static", directories=[_STATIC_DIR], name="dashboard:static", include_in_schema=False
    )
    return Router(
        path=BASE,
        route_handlers=[
            *OVERVIEW_HANDLERS,
            api_reference,
            *LOGIN_HANDLERS,
            *JOURNEY_HANDLERS,
            *CANVAS_HANDLERS,
            *COUPLE_HANDLERS,
            *RUN_HANDLERS,
            *MESSAGE_HANDLERS,
            *TASK_HANDLERS,
            *LOG_HANDLERS,
            *COLLABORATION_HANDLERS,
            *PLUGIN_HANDLERS,
            *SETTINGS_HANDLERS,
            *CRM_HANDLERS,
            not_found,
            static,
        ],
        middleware=[DashboardCSRF],
        include_in_schema=False,
    )
