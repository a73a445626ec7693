"""Cursor pagination shared by the list endpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from litestar.params import QueryParameter

__all__ = ["Cursor", "Limit", "QueryId", "QueryKind", "QuerySearch", "QueryVersion", "page_of"]

T = TypeVar("T")

Limit = Annotated[
    int, QueryParameter(ge=1, le=500, description="How many items to return (at most 500).")
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        description="Pass the previous page's next_cursor to continue; omit for the first page.",
    ),
]


QueryId = Annotated[str | None, QueryParameter(min_length=1, max_length=200)]
"""An optional id filter in the query string."""
QueryVersion = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
"""An optional version number filter in the query string."""


QueryKind = Annotated[str | None, QueryParameter(max_length=100)]
"""An optional kind/type filter (``enrollment.`` style prefixes allowed where noted)."""
QuerySearch = Annotated[str | None, QueryParameter(max_length=200)]
"""An optional free-text search."""


def page_of(items: Sequence[T], limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """Cut ``limit + 1`` fetched items into a page and the next cursor (``None``: last)."""
    page = list(items[:limit])
    next_cursor = key(page[-1]) if len(items) > limit and page else None
    return page, next_cursor
