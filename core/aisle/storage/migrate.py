"""The migration runner: applies :mod:`aisle.storage.migrations` in order, once each.

Forward-only and idempotent: every applied migration is recorded in
``aisle_migrations`` in the same transaction as its DDL (both SQLite and PostgreSQL
have transactional DDL), so a crash half way leaves the database at the previous
migration and running again continues from there. Two processes migrating at once
serialize on a PostgreSQL advisory lock (SQLite: the write lock).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from aisle.clock import utcnow
from aisle.settings import Settings
from aisle.storage import migrations as migrations_package
from aisle.storage.database import Database, connect

__all__ = [
    "Migration",
    "MigrationError",
    "applied_migrations",
    "discover",
    "migrate",
    "run_migrations",
]

log = logging.getLogger(__name__)

_LOCK_ID = 0x5A15_1E  # advisory lock key shared by every Aisle process
_RECORD_TABLE = """CREATE TABLE IF NOT EXISTS aisle_migrations (
    name TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL
)"""


class MigrationError(RuntimeError):
    """The database and the code disagree about the schema."""


@dataclass(frozen=True)
class Migration:
    name: str
    statements: Callable[[str], list[str]]


def discover() -> list[Migration]:
    """Every ``m<NNNN>_*`` module in :mod:`aisle.storage.migrations`, by name."""
    found = []
    for info in pkgutil.iter_modules(migrations_package.__path__):
        if not info.name.startswith("m") or info.ispkg:
            continue
        module = importlib.import_module(f"{migrations_package.__name__}.{info.name}")
        found.append(Migration(info.name, module.statements))
    return sorted(found, key=lambda m: m.name)


async def applied_migrations(db: Database) -> list[str]:
    """Names recorded in ``aisle_migrations`` (empty for a fresh database)."""
    await db.run_ddl(_RECORD_TABLE)
    rows = await db.execute("SELECT name FROM aisle_migrations ORDER BY name")
    return [row["name"] for row in rows]


async def run_migrations(db: Database) -> list[str]:
    """Apply what is missing; returns the names applied now (empty when up to date)."""
    available = discover()
    known = {m.name for m in available}
    applied_now: list[str] = []
    for migration in available:
        async with db.transaction():
            if db.is_postgres:
                await db.execute("SELECT pg_advisory_xact_lock({})", _LOCK_ID)
            await db.run_ddl(_RECORD_TABLE)
            done = {row["name"] for row in await db.execute("SELECT name FROM aisle_migrations")}
            unknown = done - known
            if unknown:
                raise MigrationError(
                    f"the database has migrations this version of Aisle does not know: "
                    f"{', '.join(sorted(unknown))} (it was migrated by a newer Aisle)"
                )
            if migration.name in done:
                continue
            for statement in migration.statements(db.dialect):
                await db.run_ddl(statement)
            await db.execute(
                "INSERT INTO aisle_migrations (name, applied_at) VALUES ({}, {})",
                migration.name,
                utcnow(),
            )
        log.info("applied migration %s", migration.name)
        applied_now.append(migration.name)
    return applied_now


async def migrate(settings: Settings) -> list[str]:
    """``aisle migrate``: bring the configured database up to date; returns what ran."""
    db = await connect(settings, pool=False)
    try:
        return await run_migrations(db)
    finally:
        await db.close()
