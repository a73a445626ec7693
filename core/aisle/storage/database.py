"""Connecting to SQLite or PostgreSQL, binding the piccolo tables, and transactions.

One process talks to one database: :func:`connect` builds the piccolo engine for a
URL and binds every registered table to it (piccolo keeps the engine on
``Table._meta.db``). Tests switch databases by connecting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg  # type: ignore[import-untyped]
import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from aisle.env import env_number
from aisle.settings import Settings, database_dialect, redact_url
from aisle.storage.tables import TABLES

__all__ = [
    "Database",
    "PostgresTimeouts",
    "connect",
    "register_tables",
    "registered_tables",
]

log = logging.getLogger(__name__)

POOL_CLOSE_TIMEOUT = 10.0
"""Seconds a pool may take to close gracefully before its connections are terminated."""


class PostgresTimeouts(msgspec.Struct, frozen=True, kw_only=True):
    """How long a PostgreSQL operation may wait before it fails instead of hanging.

    A database that is gone or stopped answering then costs a request a few seconds
    and a 503 (:mod:`aisle.api.problems`), never a worker held forever; the pool opens
    new connections on the next acquire, so recovery needs no restart.
    """

    connect: float = 5.0
    """Opening a connection (``AISLE_DB_CONNECT_TIMEOUT_SECONDS``)."""
    acquire: float = 5.0
    """Waiting for a free pooled connection (``AISLE_DB_ACQUIRE_TIMEOUT_SECONDS``)."""
    statement: float = 60.0
    """One statement (``AISLE_DB_STATEMENT_TIMEOUT_SECONDS``)."""

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> PostgresTimeouts:
        default = cls()
        return cls(
            connect=env_number(environ, "AISLE_DB_CONNECT_TIMEOUT_SECONDS", default.connect),
            acquire=env_number(environ, "AISLE_DB_ACQUIRE_TIMEOUT_SECONDS", default.acquire),
            statement=env_number(environ, "AISLE_DB_STATEMENT_TIMEOUT_SECONDS", default.statement),
        )


class _BoundedPool(asyncpg.pool.Pool):  # type: ignore[misc]
    """asyncpg's pool whose ``acquire()`` without a timeout (piccolo passes none) waits
    at most ``acquire_timeout`` seconds."""

    acquire_timeout: float

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def _open_pool(
    config: Mapping[str, Any], *, min_size: int, max_size: int, acquire_timeout: float
) -> _BoundedPool:
    # asyncpg.create_pool's own defaults, on the subclass it cannot be told to build.
    pool = _BoundedPool(
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        **config,
    )
    pool.acquire_timeout = acquire_timeout
    await pool
    return pool


_tables: list[type[Table]] = list(TABLES)
_open: list[Database] = []
"""Connected databases, most recently bound last; the tables point at the last one."""


def register_tables(*tables: type[Table]) -> None:
    """Add tables defined outside :mod:`aisle.storage.tables` (collaboration, op log…).

    Register them at import time, parents before children; they are bound to the
    current database at once and to every database connected later.
    """
    for table in tables:
        if table not in _tables:
            _tables.append(table)
            if _open:
                table._meta.db = _open[-1].engine


def registered_tables() -> tuple[type[Table], ...]:
    """Every table Aisle knows, parents before children."""
    return tuple(_tables)


class Database:
    """A connected piccolo engine and the dialect-aware operations on it."""

    def __init__(self, engine: SQLiteEngine | PostgresEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect = "postgres" if isinstance(engine, PostgresEngine) else "sqlite"

    def __repr__(self) -> str:
        return f"Database({redact_url(self.url)})"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgres"

    def bind(self, tables: Iterable[type[Table]] | None = None) -> None:
        """Point every registered table (or ``tables``) at this database."""
        for table in tables if tables is not None else _tables:
            table._meta.db = self.engine
        if self in _open:
            _open.remove(self)
        _open.append(self)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One write transaction, in the form each database needs.

        SQLite takes the write lock at BEGIN (``IMMEDIATE``), so two writers queue on
        the busy timeout instead of failing to upgrade a read lock half way through.
        A transaction opened inside another joins it.
        """
        if isinstance(self.engine, SQLiteEngine):
            async with self.engine.transaction(transaction_type=TransactionType.immediate):
                yield
        else:
            async with self.engine.transaction():
                yield

    @property
    def in_transaction(self) -> bool:
        return self.engine.current_transaction.get() is not None

    async def execute(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run raw SQL with ``{}`` placeholders (piccolo's portable form).

        On this database's own engine (in its transaction, if one is open here), not on
        whichever database the tables were bound to last.
        """
        results = await self.engine.run_querystring(QueryString(sql, *args))
        rows: list[dict[str, Any]] = self.engine.transform_response_to_dicts(results or [])
        return rows

    async def run_ddl(self, sql: str) -> None:
        await self.engine.run_ddl(sql)

    async def close(self) -> None:
        """Release the connection pool (PostgreSQL); SQLite holds no open connection.

        If the tables pointed here, they go back to the database connected before
        (a scheduler started inside a test and stopped again leaves the test's own).
        """
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            pool = self.engine.pool
            try:
                # A graceful close waits for every connection to come back; one that
                # leaked must not hold a shutting-down process forever.
                await asyncio.wait_for(pool.close(), POOL_CLOSE_TIMEOUT)
            except TimeoutError:
                log.warning(
                    "closing the PostgreSQL pool took over %ss; terminating its connections",
                    POOL_CLOSE_TIMEOUT,
                )
                pool.terminate()
            self.engine.pool = None
        if self in _open:
            was_bound = _open[-1] is self
            _open.remove(self)
            if was_bound and _open:
                _open[-1].bind()


async def connect(
    target: Settings | str,
    *,
    pool: bool = True,
    pool_min: int | None = None,
    pool_max: int | None = None,
    sqlite_timeout: float | None = None,
) -> Database:
    """Open the database named by ``target`` (settings or a URL) and bind the tables.

    PostgreSQL gets an asyncpg pool (``pool=False`` for one-shot commands), every wait
    on it bounded by :class:`PostgresTimeouts`. SQLite switches the file to WAL once, so
    readers never wait on the writer; a writer waits on another at most its busy timeout.
    """
    settings = target if isinstance(target, Settings) else None
    url = settings.database_url if settings is not None else str(target)
    dialect = database_dialect(url)
    engine: SQLiteEngine | PostgresEngine
    if dialect == "sqlite":
        path = sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        timeout = sqlite_timeout
        if timeout is None:
            timeout = settings.sqlite_busy_timeout_seconds if settings else 30.0
        engine = SQLiteEngine(path=path, timeout=timeout)
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    else:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        timeouts = PostgresTimeouts.of(settings.environ if settings else {})
        # asyncpg's connect() arguments: piccolo passes them to every connection it
        # opens, pooled or not (its version check at construction included).
        config = {"dsn": dsn, "timeout": timeouts.connect, "command_timeout": timeouts.statement}
        engine = PostgresEngine(config=config)
        if pool:
            engine.pool = await _open_pool(
                config,
                min_size=pool_min
                if pool_min is not None
                else (settings.db_pool_min if settings else 1),
                max_size=pool_max
                if pool_max is not None
                else (settings.db_pool_max if settings else 10),
                acquire_timeout=timeouts.acquire,
            )
    db = Database(engine, url)
    db.bind()
    log.debug("connected to %s", db)
    return db


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc:
        raise ValueError(f"sqlite URL {url!r} has a host; use sqlite:///path/to/file.sqlite3")
    # urlsplit("sqlite:///data/x.db").path == "/data/x.db" (relative: three slashes);
    # "sqlite:////srv/x.db" gives "//srv/x.db" (absolute: four slashes).
    return path[1:]
