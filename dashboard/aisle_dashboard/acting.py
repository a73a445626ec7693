"""What the studio pages share: the signed-in check, the services' refusals as words on
the page, and the paging of long lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Redirect

from aisle.services.refusals import REFUSALS, refusal
from aisle_dashboard.paths import BASE

__all__ = ["NOT_SIGNED_IN", "REFUSALS", "after", "page_of", "refusal", "see"]

T = TypeVar("T")

NOT_SIGNED_IN = Redirect(f"{BASE}/login", status_code=303)


def see(path: str) -> Redirect:
    """After a form post that worked: back to the page (a reload does not post again)."""
    return Redirect(f"{BASE}{path}", status_code=303)


def page_of(rows: Sequence[T], limit: int, key: Any) -> tuple[Sequence[T], str | None]:
    """The first ``limit`` of ``limit + 1`` rows read, and the cursor of the next page."""
    if len(rows) > limit:
        return rows[:limit], key(rows[limit - 1])
    return rows, None


def after(request: Request[Any, Any, Any], **changes: str | None) -> str:
    """This page's query string with ``changes`` made (``None`` removes a key): the
    filters carried into the next page's link."""
    query = {k: v for k, v in request.query_params.items() if v}
    for key, value in changes.items():
        if value:
            query[key] = value
        else:
            query.pop(key, None)
    return "?" + urlencode(query) if query else "?"
