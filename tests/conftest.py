"""Shared fixtures: databases (SQLite and PostgreSQL), Redis, a test clock, the registry.

``db`` is parametrized over ``sqlite`` (a fresh file per test, copied from a template
migrated once per session) and ``postgres`` (one database per xdist worker,
``aisle_test_<worker>``, created from ``test`` and migrated once per session; every
table is truncated before each test). PostgreSQL and Redis tests skip with a reason
when those services are unreachable, and fail instead under ``CI=true``.

Override the service locations with ``AISLE_TEST_POSTGRES_URL`` (an admin URL whose
database may be used to create others) and ``AISLE_TEST_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage.database import Database, connect
from aisle.storage.migrate import run_migrations
from aisle.storage.store import Store

POSTGRES_ADMIN_URL = os.environ.get(
    "AISLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_BASE_URL = os.environ.get("AISLE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET_KEY = "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LXRlc3Q="


def service_unavailable(what: str, url: str) -> None:
    """Skip the test — or fail it under CI, where every service must be there."""
    message = f"{what} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests needing it must run)")
    pytest.skip(f"{message}; start it or set the AISLE_TEST_* URL to run this test")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _run_blocking(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a loop of its own (fixtures may be set up from
    inside a running test loop, where ``asyncio.run`` is not allowed)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def xdist_worker(request: pytest.FixtureRequest) -> str:
    """``gw0``, ``gw1``… under xdist, ``main`` otherwise."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
def test_run_id(request: pytest.FixtureRequest) -> str:
    """Short id shared by the xdist workers of one pytest run, unique across runs (so
    two developers' runs on one machine never share a database)."""
    run_uid = getattr(request.config, "workerinput", {}).get("testrunuid")
    return str(run_uid or uuid.uuid4().hex)[:8]


@pytest.fixture
def clock() -> TestClock:
    """A clock standing at Monday 2026-01-05 09:00 UTC until the test moves it."""
    return TestClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def quick_bench() -> Callable[..., list[str]]:
    """Runs bench rows by name (``python -m bench --quick --only …``, from the repository
    root) and returns the table rows it printed, header dropped."""

    def run(*names: str) -> list[str]:
        only = [arg for name in names for arg in ("--only", name)]
        result = subprocess.run(
            [sys.executable, "-m", "bench", "--quick", *only],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[1:]

    return run


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The plugin registry as ``aisle`` loads it (built-ins and installed plugins)."""
    return load_registry()


# -- databases ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (much faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"

    async def build() -> None:
        db = await connect(f"sqlite:///{path}")
        await run_migrations(db)
        await db.close()

    _run_blocking(build)
    return path


@pytest.fixture(scope="session")
def postgres_url(xdist_worker: str, test_run_id: str) -> Iterator[str]:
    """A migrated database of this worker's own (``aisle_test_<run>_<worker>``),
    created from the admin database once per session and dropped at its end."""
    if not _reachable(POSTGRES_ADMIN_URL, 5432):
        service_unavailable("PostgreSQL", POSTGRES_ADMIN_URL)
    name = f"aisle_test_{test_run_id}_{xdist_worker}".replace("-", "_")
    url = _with_database(POSTGRES_ADMIN_URL, name)

    async def build() -> None:
        import asyncpg

        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        db = await connect(url, pool=False)
        await run_migrations(db)
        await db.close()

    async def drop() -> None:
        import asyncpg

        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    _run_blocking(build)
    yield url
    _run_blocking(drop)


async def _truncate_postgres(db: Database) -> None:
    rows = await db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'aisle_migrations'"
    )
    names = ", ".join(f'"{r["tablename"]}"' for r in rows)
    if names:
        await db.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a clean, migrated database of the parametrized kind."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "aisle.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A connected, clean, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "aisle.sqlite3"
        shutil.copyfile(template, path)
        database = await connect(f"sqlite:///{path}")
    else:
        url: str = request.getfixturevalue("postgres_url")
        database = await connect(url, pool_min=1, pool_max=8)
        await _truncate_postgres(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def store(db: Database, clock: TestClock) -> Store:
    """A :class:`Store` on ``db`` whose timestamps come from ``clock``."""
    return Store(db, clock)


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    """Settings pointing at ``db``, with a data dir in ``tmp_path`` and a fixed test key."""
    return Settings(
        data_dir=str(tmp_path / "data"),
        database_url=db.url,
        secret_key=TEST_SECRET_KEY,
        poll_interval_seconds=0.05,
    )


# -- redis -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_namespace(xdist_worker: str, test_run_id: str) -> str:
    """The key prefix of this run's worker on the shared Redis (``AISLE_QUEUE_NAMESPACE``):
    every key and channel a test makes starts with ``<namespace>:``."""
    return f"aisle-test-{test_run_id}-{xdist_worker}"


@pytest.fixture
def redis_url(redis_namespace: str) -> Iterator[str]:
    """The test Redis, shared with anything else running there (a live Aisle included).

    Tests give every Redis user :func:`redis_namespace` (``queue_namespace``,
    ``AISLE_QUEUE_NAMESPACE``, the hub's and rate limiter's ``namespace``), and only
    keys under it are deleted, before and after the test: nothing else is flushed.
    """
    if not _reachable(REDIS_BASE_URL, 6379):
        service_unavailable("Redis", REDIS_BASE_URL)
    _delete_namespace(REDIS_BASE_URL, redis_namespace)
    yield REDIS_BASE_URL
    _delete_namespace(REDIS_BASE_URL, redis_namespace)


def _delete_namespace(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        # The colon keeps gw1's prefix from matching gw10's keys.
        for batch in _batched(client.scan_iter(match=f"{_glob_escape(namespace)}:*", count=500)):
            client.delete(*batch)
    finally:
        client.close()


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _batched(items: Iterator[Any], size: int = 500) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- runtime and jobs ------------------------------------------------------------------


class Recorder:
    """Action executors for tests: ``email``, ``sms``, ``webhook`` and ``crm_update``
    record every call; ``task`` creates the task through ``ActionServices``.

    ``fail(executor, error, times)`` makes the next calls raise ``error``.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []  # (executor, idempotency key, attempt)
        self._failures: dict[str, list[BaseException]] = {}

    def fail(self, executor: str, error: BaseException, times: int = 1) -> None:
        self._failures.setdefault(executor, []).extend([error] * times)

    def keys(self, executor: str) -> list[str]:
        return [key for name, key, _ in self.calls if name == executor]

    def plugin(self) -> object:
        import msgspec

        from aisle.contracts.actions import ActionContext, ActionExecutor, ActionResult
        from aisle.contracts.hooks import hookimpl

        class AnyConfig(msgspec.Struct):
            """Accepts (and ignores) whatever config a node sends."""

        # Built with real types, not annotations: several conftest modules share the
        # name "conftest", so msgspec could resolve string annotations in the wrong one.
        TaskConfig = msgspec.defstruct(
            "TaskConfig",
            [
                ("title", str, ""),
                ("assignee", str, "client"),
                ("due_at", datetime | None, None),
                ("required_approvals", int, 1),
                ("details", dict[str, Any], {}),
            ],
            kw_only=True,
        )

        recorder = self

        def make(name: str, messaging: bool) -> ActionExecutor:
            async def execute(ctx: ActionContext) -> ActionResult:
                recorder.calls.append((name, ctx.idempotency_key, ctx.attempt))
                pending = recorder._failures.get(name)
                if pending:
                    raise pending.pop(0)
                return ActionResult(detail={"recorded": ctx.idempotency_key})

            return ActionExecutor(
                name=name,
                execute=execute,
                config=AnyConfig,
                messaging=messaging,
                max_attempts=3,
            )

        async def task(ctx: ActionContext) -> ActionResult:
            recorder.calls.append(("task", ctx.idempotency_key, ctx.attempt))
            config: Any = ctx.config
            task_id = await ctx.services.create_task(
                title=config.title,
                assignee=config.assignee,
                due_at=config.due_at,
                step_id=ctx.step_id,
                required_approvals=config.required_approvals,
                details=config.details,
            )
            return ActionResult(detail={"task_id": task_id})

        class Plugin:
            @hookimpl
            def aisle_action_executors(self) -> list[ActionExecutor]:
                return [
                    make("email", True),
                    make("sms", True),
                    make("webhook", False),
                    make("crm_update", False),
                    ActionExecutor(name="task", execute=task, config=TaskConfig),
                ]

        return Plugin()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def jobs_registry(recorder: Recorder) -> Registry:
    """Built-in node and trigger types plus the :class:`Recorder`'s executors (no
    installed plugins, so nothing reaches SMTP or the network)."""
    registry = load_registry(entry_points=False, extra_plugins=[("recording", recorder.plugin())])
    assert not registry.errors, registry.errors
    return registry


@pytest.fixture
def runtime(store: Store, jobs_registry: Registry, settings: Settings) -> Any:
    """A :class:`~aisle.runtime.Runtime` on ``store`` with the recording executors."""
    from aisle.runtime import Runtime

    return Runtime(store, jobs_registry, settings)
