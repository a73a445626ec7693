"""Rendering the dashboard's Jinja templates (package data) into HTML responses."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType

from aisle_dashboard.csrf import csrf_token
from aisle_dashboard.paths import BASE, STATIC

__all__ = ["page"]

_env = Environment(
    loader=PackageLoader("aisle_dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(
    request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any
) -> Response[str]:
    """An HTML page; every template gets the URLs and this response's CSRF token."""
    context.setdefault("organization", None)
    context.setdefault("role", None)
    context.setdefault("active", None)
    html = _env.get_template(template).render(
        base_url=BASE, static_url=STATIC, csrf_token=csrf_token(request.scope), **context
    )
    return Response(
        content=html,
        media_type=MediaType.HTML,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
        },
    )
