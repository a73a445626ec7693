"""Migrations: explicit per dialect, recorded, idempotent, safe to run concurrently."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aisle.settings import Settings
from aisle.storage import Database, MigrationError, connect, migrate, run_migrations
from aisle.storage.migrate import applied_migrations, discover
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
