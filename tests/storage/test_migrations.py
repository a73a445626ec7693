"""Migrations: explicit per dialect, recorded, idempotent, safe to run concurrently."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aisle.settings import Settings
from aisle.storage import Database, MigrationError, connect, migrate, run_migrations
from aisle.storage.migrate import applied_migrations, discover
from aisle.storage.migrations.m0001_initial import statements as initial_statements
from aisle.storage.tables import TABLES


async def test_migrated_database_has_every_table_and_records_it(db: Database) -> None:
    names = [m.name for m in discover()]
    assert names[0] == "m0001_initial"
    assert await applied_migrations(db) == names
    assert await run_migrations(db) == []  # a second run changes nothing
    for table in TABLES:
        # Every column piccolo knows exists in the DDL the migration created.
        await table.select().limit(1)


async def test_migrate_from_scratch_with_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path), secret_key="k")
    assert await migrate(settings) == [m.name for m in discover()]
    assert await migrate(settings) == []
    assert (tmp_path / "aisle.sqlite3").exists()


@pytest.mark.postgres
async def test_concurrent_migrations_on_postgres_apply_once(postgres_url: str) -> None:
    import asyncpg

    base, name = postgres_url.rsplit("/", 1)
    scratch = f"{name}_concurrent"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{scratch}"')
    finally:
        await admin.close()
    dbs = [await connect(f"{base}/{scratch}", pool=False) for _ in range(3)]
    try:
        results = await asyncio.gather(*(run_migrations(d) for d in dbs))
        applied = [name for result in results for name in result]
        assert sorted(applied) == [m.name for m in discover()]
    finally:
        for d in dbs:
            await d.close()
        admin = await asyncpg.connect(postgres_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_unknown_migration_in_database_is_refused(db: Database) -> None:
    await db.execute(
        "INSERT INTO aisle_migrations (name, applied_at) VALUES ({}, {})",
        "m9999_from_the_future",
        datetime(2030, 1, 1, tzinfo=UTC),
    )
    try:
        with pytest.raises(MigrationError, match="m9999_from_the_future"):
            await run_migrations(db)
    finally:  # the PostgreSQL test database is shared by the session
        await db.execute("DELETE FROM aisle_migrations WHERE name = {}", "m9999_from_the_future")


async def _table_exists(db: Database, name: str) -> bool:
    if db.is_postgres:
        rows = await db.execute("SELECT to_regclass({}) IS NOT NULL AS found", name)
        return bool(rows[0]["found"])
    rows = await db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = {}", name
    )
    return bool(rows)


async def test_the_old_node_locks_table_is_dropped_and_presence_kept(db: Database) -> None:
    """m0006 removes ``node_locks`` (locks live in ``collab_locks``); presence stays."""
    assert not await _table_exists(db, "node_locks")
    assert await _table_exists(db, "collab_locks")
    assert await _table_exists(db, "presence_sessions")


async def test_upgrading_drops_the_old_node_locks_table_with_its_rows(db: Database) -> None:
    """A database from before m0006 (``node_locks`` as m0001 made it, holding a lease)
    loses the table when migrated, and the run is recorded like any other."""
    [create_table] = [
        s for s in initial_statements(db.dialect) if s.startswith("CREATE TABLE node_locks")
    ]
    await db.run_ddl(create_table)
    at = datetime(2026, 1, 5, tzinfo=UTC)
    await db.execute(
        "INSERT INTO organizations (id, slug, name, created_at) VALUES ('o', 'a', 'A', {})", at
    )
    await db.execute(
        "INSERT INTO journeys (id, organization_id, name, draft, created_at, updated_at) "
        "VALUES ('j', 'o', 'J', {}, {}, {})",
        "{}",
        at,
        at,
    )
    await db.execute(
        "INSERT INTO node_locks (id, organization_id, journey_id, node_id, holder, mode, "
        "fencing_token, acquired_at, expires_at) "
        "VALUES ('l', 'o', 'j', 'n', 'u', 'edit', 1, {}, {})",
        at,
        at,
    )
    await db.execute("DELETE FROM aisle_migrations WHERE name = {}", "m0006_drop_node_locks")
    assert await run_migrations(db) == ["m0006_drop_node_locks"]
    assert not await _table_exists(db, "node_locks")
    assert await applied_migrations(db) == [m.name for m in discover()]
