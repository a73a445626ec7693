"""What the CRM pages share: the CRM services' dependencies for this app, the page for
something that is not there, and what a connection says about its credentials."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.domain.crm_connection import CRMConnection
from aisle.services.sessions import Session
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context

__all__ = ["credential_state", "crm_deps", "missing"]


def crm_deps(request: Request[Any, Any, Any]) -> CRMDeps:
    """The deps the API's ``/crm`` routes use (the dashboard signs in only with
    ``AISLE_SECRET_KEY`` set, so the credential cipher is always there)."""
    return CRMDeps.of(app_context(request).require_runtime())


def missing(request: Request[Any, Any, Any], session: Session) -> Response[Any]:
    return page(request, "not_found.html", status_code=404, session=session, path=request.url.path)


async def credential_state(
    deps: CRMDeps, session: Session, connection: CRMConnection
) -> tuple[list[str], bool]:
    """Which credential fields hold a value (never the values), and whether they still
    decrypt and fit the provider — as the API answers them."""
    try:
        credentials = msgspec.to_builtins(await deps.credentials(session.scope, connection))
    except UnusableConnection:
        return [], False
    return sorted(k for k, v in (credentials or {}).items() if v not in (None, "")), True
