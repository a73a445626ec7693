"""The base of every organization-scoped repository: the org filter lives here.

A repository is built for one organization and only reaches rows through
:meth:`Scoped._where`, :meth:`Scoped._select`, :meth:`Scoped._update`,
:meth:`Scoped._delete` and :meth:`Scoped._insert`, which add (or set)
``organization_id``. No method takes an organization argument, so there is no way to
ask one scope for another organization's rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

from piccolo.query.methods.select import Select
from piccolo.query.methods.update import Update
from piccolo.table import Table

from aisle.clock import Clock
from aisle.storage.database import Database

__all__ = ["Scoped"]


class Scoped:
    """Shared plumbing: ``table`` is the repository's main table."""

    table: ClassVar[type[Table]]
    kind: ClassVar[str] = "row"

    def __init__(self, org_id: str, db: Database, clock: Clock) -> None:
        if not org_id:
            raise ValueError("an organization-scoped repository needs an organization id")
        self.org_id = org_id
        self.db = db
        self.clock = clock

    def _where(self, *conditions: Any, table: type[Table] | None = None) -> Any:
        t = table or self.table
        where: Any = t.organization_id == self.org_id  # type: ignore[attr-defined]
        for condition in conditions:
            if condition is not None:
                where = where & condition
        return where

    def _select(self, *conditions: Any, table: type[Table] | None = None) -> Select[Any]:
        t = table or self.table
        return t.select().where(self._where(*conditions, table=t))

    def _update(
        self, values: dict[Any, Any], *conditions: Any, table: type[Table] | None = None
    ) -> Update[Any]:
        t = table or self.table
        return t.update(values).where(self._where(*conditions, table=t))

    def _delete(self, *conditions: Any, table: type[Table] | None = None) -> Any:
        t = table or self.table
        return t.delete().where(self._where(*conditions, table=t))

    def _row(self, table: type[Table] | None = None, **values: Any) -> Any:
        t = table or self.table
        values["organization_id"] = self.org_id
        return t(**values)

    async def _insert(self, table: type[Table] | None = None, **values: Any) -> None:
        t = table or self.table
        await t.insert(self._row(t, **values))

    async def _first(self, *conditions: Any, table: type[Table] | None = None) -> Any:
        return await self._select(*conditions, table=table).first()

    def _lock_suffix(self) -> bool:
        """Whether row locks (``FOR UPDATE``) exist here: PostgreSQL only.

        SQLite needs none: every write transaction holds the database write lock.
        """
        return self.db.is_postgres
