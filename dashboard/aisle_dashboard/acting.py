"""What the studio pages share: the signed-in check, the services' refusals as words on
the page, and the paging of long lists (a list page's reading of them, signed in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Redirect

from aisle.services.refusals import REFUSALS, refusal
from aisle.services.sessions import Session
from aisle.services.studio_reads import StudioReads
from aisle_dashboard.paths import BASE
from aisle_dashboard.session import signed_in

__all__ = [
    "NOT_SIGNED_IN",
    "REFUSALS",
    "Listing",
    "after",
    "listing",
    "page_of",
    "refusal",
    "see",
]

T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_Identified)

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


@dataclass(frozen=True, kw_only=True)
class Listing(Generic[R]):
    """One page of a list page's rows, read for the signed-in ``session``."""

    session: Session
    reads: StudioReads
    rows: Sequence[R]
    next_page: str | None


async def listing(
    request: Request[Any, Any, Any],
    cursor: str,
    limit: int,
    read: Callable[[Session, str | None, int], Awaitable[Sequence[R]]],
) -> Listing[R] | None:
    """The rows ``read(session, before, limit)`` finds before ``cursor`` (the newest when
    empty), at most ``limit`` of them, and the link to the next page with this page's
    filters; ``None`` when nobody is signed in."""
    session = await signed_in(request)
    if session is None:
        return None
    found = await read(session, cursor or None, limit + 1)
    rows, next_cursor = page_of(found, limit, lambda r: r.id)
    return Listing(
        session=session,
        reads=StudioReads(session.scope),
        rows=rows,
        next_page=after(request, cursor=next_cursor) if next_cursor else None,
    )
