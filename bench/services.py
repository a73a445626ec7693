"""What benches share: a fresh, migrated PostgreSQL database of their own.

``AISLE_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
names an admin connection whose server may create databases; a bench's database is
dropped again when it finishes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

__all__ = ["POSTGRES_ADMIN_URL", "fresh_postgres"]

POSTGRES_ADMIN_URL = os.environ.get(
    "AISLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@asynccontextmanager
async def fresh_postgres(name: str) -> AsyncIterator[str]:
    """Create database ``name`` (dropping a leftover one), migrate it, yield its URL."""
    import asyncpg

    from aisle.storage.database import connect
    from aisle.storage.migrate import run_migrations

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))
    try:
        db = await connect(url, pool=False)
        await run_migrations(db)
        await db.close()
        yield url
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
