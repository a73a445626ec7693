"""Executor memory of one organization: what an executor remembers between runs.

Backs ``ActionServices.recall`` / ``remember`` (a message already handed to a provider,
a webhook endpoint disabled by ``410 Gone``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.columns import JSON, Text, Timestamptz
from piccolo.table import Table

from aisle.storage.database import register_tables
from aisle.storage.rows import dump, load, utc
from aisle.storage.scoped import Scoped

__all__ = ["ExecutorMemoryRepository", "ExecutorMemoryTable"]


class ExecutorMemoryTable(Table, tablename="executor_memory"):
    # The real key is (organization_id, executor, key); piccolo needs one column marked.
    organization_id = Text()
    executor = Text()
    key = Text(primary_key=True)
    value = JSON()
    updated_at = Timestamptz(default=None)


register_tables(ExecutorMemoryTable)

T = ExecutorMemoryTable


class ExecutorMemoryRepository(Scoped):
    table = T
    kind = "executor memory"

    async def recall(self, executor: str, key: str) -> dict[str, Any] | None:
        row = await self._first(T.executor == executor, T.key == key)
        return load(row["value"]) if row else None

    async def entries(
        self, executor: str, prefix: str = ""
    ) -> list[tuple[str, dict[str, Any], datetime | None]]:
        """What ``executor`` remembers under keys starting with ``prefix``: (key, value,
        updated at), oldest first (the API lists disabled webhook endpoints this way)."""
        rows = await self._select(T.executor == executor).order_by(T.updated_at)
        return [
            (r["key"], load(r["value"]), utc(r["updated_at"]))
            for r in rows
            if r["key"].startswith(prefix)
        ]

    async def remember(self, executor: str, key: str, value: dict[str, Any] | None) -> None:
        """Store ``value`` under (executor, key); ``None`` forgets it."""
        async with self.db.transaction():
            await self._delete(T.executor == executor, T.key == key)
            if value is not None:
                await self._insert(
                    executor=executor, key=key, value=dump(value), updated_at=self.clock.now()
                )
