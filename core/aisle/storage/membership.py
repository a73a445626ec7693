"""``column IN (values)`` that stays fast on PostgreSQL whatever the plan cache does.

asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
plan, where ``IN ($1, …, $500)`` is no longer a constant list it can hash and every
row is compared with every value: a page of 500 keys against 10,000 contacts took
~400 ms, growing with the table. One array parameter (``= ANY($1)``) keeps the index
lookup in either plan (~2 ms). SQLite has no arrays and no such plans: ``IN`` there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw

from aisle.storage.database import Database

__all__ = ["one_of", "one_of_sql"]


def one_of(db: Database, column: Column, values: Iterable[Any]) -> Any:
    """A piccolo condition: ``column`` is one of ``values`` (duplicates dropped)."""
    unique = list(dict.fromkeys(values))
    if db.is_postgres:
        return WhereRaw(f"{column._meta.get_full_name(with_alias=False)} = ANY({{}})", unique)
    return column.is_in(unique)


def one_of_sql(db: Database, name: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
    """The same for hand-written SQL: ``(fragment, arguments)`` with ``{}`` placeholders."""
    unique = list(dict.fromkeys(values))
    if db.is_postgres:
        return f"{name} = ANY({{}})", [unique]
    return f"{name} IN ({', '.join('{}' for _ in unique)})", unique
