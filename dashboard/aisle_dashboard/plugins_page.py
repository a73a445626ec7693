"""Plugins: what this server loaded (each plugin's distribution, version and the names
it registers per hook) and what failed to load — the registry ``aisle plugins --json``
prints, as the running app holds it. Every role may read it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from aisle_dashboard.acting import NOT_SIGNED_IN
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context, signed_in

__all__ = ["PLUGIN_HANDLERS"]


@get("/plugins", name="dashboard:plugins")
async def plugins(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    report = app_context(request).registry.as_json()
    return page(
        request,
        "plugins.html",
        session=session,
        active="plugins",
        plugins=report["plugins"],
        errors=report["errors"],
    )


PLUGIN_HANDLERS = (plugins,)
