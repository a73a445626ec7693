"""An organization's rows, table by table, as plain JSON values: what a backup holds.

:data:`BACKUP_TABLES` names every table a backup carries, parents before children (the
order a restore inserts them in), with the columns piccolo knows and the key rows are
read in. :data:`LEFT_OUT` names the organization's tables a backup leaves out and why.
A test holds the two against the migrated schema, so a new table or column that
neither covers fails it rather than being silently lost from backups.

Values are made dialect-neutral on the way out (timestamps as UTC ISO 8601, dates as
ISO dates, JSON columns as parsed documents, booleans as booleans), so a PostgreSQL
organization and the same organization restored into SQLite read back identically.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from piccolo.columns import JSON, BigInt, Boolean, Date, DoublePrecision, Integer, Timestamptz
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from aisle.storage.api_tables import FlowOpTable, JourneyCollaboratorTable
from aisle.storage.crm_tables import CRMHeldChangeTable, CRMLinkTable
from aisle.storage.database import Database
from aisle.storage.executor_memory import ExecutorMemoryTable
from aisle.storage.messages import MessageTable
from aisle.storage.studio_secrets import StudioSecretTable
from aisle.storage.tables import (
    ActionRunTable,
    ApiTokenTable,
    AutomationLogTable,
    ConflictTable,
    ContactExternalIdTable,
    ContactTable,
    CRMConnectionTable,
    EnrollmentTable,
    EventTable,
    JourneyTable,
    JourneyVersionTable,
    OrganizationTable,
    SyncRunTable,
    TaskTable,
    UserTable,
)

__all__ = [
    "BACKUP_TABLES",
    "LEFT_OUT",
    "ORGANIZATION",
    "OrgRows",
    "TableSpec",
    "plain_row",
    "spec_named",
    "stored_value",
]

PARAMETERS_PER_INSERT = 900
"""Bound values per INSERT statement: under SQLite's oldest limit (999) on either side."""


@dataclass(frozen=True)
class TableSpec:
    """One table in a backup: its piccolo class, the key its rows are read in, and
    whether it is carried only on request (the automation log: ``--with-log``)."""

    table: type[Table]
    key: tuple[str, ...] = ("id",)
    optional: bool = False

    @property
    def name(self) -> str:
        return str(self.table._meta.tablename)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(str(c._meta.db_column_name) for c in self.table._meta.columns)

    def kind(self, column: str) -> str:
        found = self.table._meta.get_column_by_name(column)
        if isinstance(found, Timestamptz):
            return "timestamp"
        if isinstance(found, Date):
            return "date"
        if isinstance(found, JSON):
            return "json"
        if isinstance(found, Boolean):
            return "boolean"
        if isinstance(found, Integer | BigInt):
            return "integer"
        if isinstance(found, DoublePrecision):
            return "float"
        return "text"


ORGANIZATION = TableSpec(OrganizationTable)
"""The organization's own row (the restore gives it the slug asked for)."""

BACKUP_TABLES: tuple[TableSpec, ...] = (
    TableSpec(UserTable),
    TableSpec(ApiTokenTable),
    TableSpec(ContactTable),
    TableSpec(ContactExternalIdTable, key=("provider", "external_id")),
    TableSpec(JourneyTable),
    TableSpec(JourneyVersionTable),
    TableSpec(EnrollmentTable),
    TableSpec(EventTable),
    TableSpec(ActionRunTable),
    TableSpec(TaskTable),
    TableSpec(AutomationLogTable, optional=True),
    TableSpec(ConflictTable),
    TableSpec(CRMConnectionTable),
    TableSpec(SyncRunTable),
    TableSpec(FlowOpTable),
    TableSpec(JourneyCollaboratorTable, key=("journey_id", "user_id")),
    TableSpec(ExecutorMemoryTable, key=("executor", "key")),
    TableSpec(MessageTable),
    TableSpec(StudioSecretTable, key=("name",)),
    TableSpec(CRMLinkTable, key=("connection_id", "kind", "external_id")),
    TableSpec(CRMHeldChangeTable),
)
"""Every table a backup carries, parents before children."""

LEFT_OUT: dict[str, str] = {
    "presence_sessions": "who has a journey open right now; gone within a minute anyway",
    "collab_locks": "edit leases of people editing now; a restored studio starts unlocked",
    "collab_fences": "fencing counters of those leases; they restart with the leases",
    "sessions": "sign-in cookies; after a restore everyone signs in again",
    "snapshots": "undo points of this database's changes; a backup is a whole copy already",
}
"""The organization's tables a backup leaves out, each with the reason."""


def spec_named(name: str) -> TableSpec | None:
    """The backup's spec of table ``name`` (the organization's row included)."""
    for spec in (ORGANIZATION, *BACKUP_TABLES):
        if spec.name == name:
            return spec
    return None


def _plain(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return stamp.astimezone(UTC).isoformat()
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "json":
        return json.loads(value) if isinstance(value, str | bytes) else value
    if kind == "boolean":
        return bool(value)
    return value


def plain_row(spec: TableSpec, row: dict[str, Any]) -> dict[str, Any]:
    """A row as read from the database, its values made plain JSON values."""
    return {c: _plain(spec.kind(c), row[c]) for c in spec.columns if c in row}


def stored_value(spec: TableSpec, column: str, value: Any) -> Any:
    """A plain JSON value as the database takes it for ``column``."""
    return _stored(spec.kind(column), value)


def _stored(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "json":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


class OrgRows:
    """Reads one organization's rows out of a database and writes rows into one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        """One consistent, read-only view for every read inside it: a backup taken
        while the studio works is still a single moment of it."""
        engine = self.db.engine
        if isinstance(engine, SQLiteEngine):
            # WAL gives a deferred transaction a snapshot without blocking the writer.
            async with engine.transaction(transaction_type=TransactionType.deferred):
                yield
        else:
            async with engine.transaction():
                await self.db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield

    async def count(self, spec: TableSpec, org_id: str) -> int:
        column = "id" if spec is ORGANIZATION else "organization_id"
        rows = await self.db.execute(
            f"SELECT COUNT(*) AS n FROM {spec.name} WHERE {column} = {{}}", org_id
        )
        return int(rows[0]["n"])

    async def pages(
        self, spec: TableSpec, org_id: str, size: int = 1000
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The organization's rows of ``spec`` in key order, as plain JSON values."""
        column = "id" if spec is ORGANIZATION else "organization_id"
        # Byte order on both databases, so two dialects list rows alike.
        collate = ' COLLATE "C"' if self.db.is_postgres else ""
        order = ", ".join(f"{k}{collate}" for k in spec.key)
        kinds = {c: spec.kind(c) for c in spec.columns}
        offset = 0
        while True:
            rows = await self.db.execute(
                f"SELECT {', '.join(spec.columns)} FROM {spec.name} WHERE {column} = {{}} "
                f"ORDER BY {order} LIMIT {size} OFFSET {offset}",
                org_id,
            )
            if rows:
                yield [{c: _plain(kinds[c], row[c]) for c in spec.columns} for row in rows]
            if len(rows) < size:
                return
            offset += size

    async def insert(self, spec: TableSpec, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows given as plain JSON values (as :meth:`pages` gives them).

        Call inside a transaction; a row whose key exists already fails the whole of it.
        """
        columns = spec.columns
        kinds = {c: spec.kind(c) for c in columns}
        per_statement = max(1, PARAMETERS_PER_INSERT // len(columns))
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            values: list[Any] = []
            for row in batch:
                values += [_stored(kinds[c], row.get(c)) for c in columns]
            one = "(" + ", ".join("{}" for _ in columns) + ")"
            await self.db.execute(
                f"INSERT INTO {spec.name} ({', '.join(columns)}) VALUES "
                + ", ".join(one for _ in batch),
                *values,
            )

    async def taken(self, org_id: str, slug: str) -> str | None:
        """Why an organization with this id or slug cannot be restored here, if so."""
        rows = await self.db.execute(
            "SELECT id, slug FROM organizations WHERE id = {} OR slug = {}", org_id, slug
        )
        for row in rows:
            if row["id"] == org_id:
                return f"organization {org_id} is in this database already (as {row['slug']!r})"
        if rows:
            return f"the slug {slug!r} is taken by another organization"
        return None
