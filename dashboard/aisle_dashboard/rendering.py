"""Rendering the dashboard's Jinja templates (package data) into HTML responses."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType

from aisle.domain.user import role_at_least
from aisle.services.sessions import Session
from aisle_dashboard.csrf import csrf_token
from aisle_dashboard.nav import NAV
from aisle_dashboard.paths import API_REFERENCE, BASE, STATIC, VENDOR

__all__ = ["CONTENT_SECURITY_POLICY", "page"]

_env = Environment(
    loader=PackageLoader("aisle_dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

CONTENT_SECURITY_POLICY = (
    # Scripts and styles only from our own files: no inline script, no eval (htmx is
    # configured without it). Images may be data: URIs (the API reference's icons).
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    session: Session | None = None,
    active: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response[str]:
    """An HTML page. Every template gets the URLs, the navigation, this response's CSRF
    token and the signed-in ``session`` (``None`` on the sign-in and error pages), with
    ``can(role)`` telling whether to show a control that needs ``role`` — the services
    refuse the change anyway; hiding it spares a viewer a button that cannot work."""
    role = session.role if session is not None else None
    html = _env.get_template(template).render(
        base_url=BASE,
        static_url=STATIC,
        vendor_url=VENDOR,
        api_reference_url=API_REFERENCE,
        csrf_token=csrf_token(request.scope),
        nav=NAV,
        active=active,
        session=session,
        organization=session.organization if session is not None else None,
        role=role,
        can=lambda needed: role is not None and role_at_least(role, needed),
        **context,
    )
    return Response(
        content=html,
        media_type=MediaType.HTML,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        },
    )
