"""A normal API request while PostgreSQL is unreachable: a fast 503, then 200 again."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from aisle.api import create_app
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage.database import connect
from aisle.storage.store import Store
from tests.api.conftest import make_org
from tests.ops.tcp_proxy import TcpProxy
from tests.ops.test_health import _through


class _ThreadedProxy:
    """The cuttable proxy on an event loop of its own: piccolo checks the server version
    synchronously (from a thread, blocking the caller's loop) when an engine is built,
    which must not wait on a proxy served by that same loop."""

    def __init__(self, host: str, port: int) -> None:
        self.proxy = TcpProxy(host, port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, step: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(step, self.loop).result(timeout=10)

    @property
    def port(self) -> int:
        return self.proxy.port


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[_ThreadedProxy]:
    target = urlsplit(postgres_url)
    threaded = _ThreadedProxy(target.hostname or "127.0.0.1", target.port or 5432)
    threaded.thread.start()
    threaded.run(threaded.proxy.start())
    try:
        yield threaded
    finally:
        threaded.loop.call_soon_threadsafe(threaded.loop.stop)
        threaded.thread.join(timeout=10)


@pytest.mark.postgres
async def test_an_api_request_gets_a_fast_503_while_the_database_is_gone_then_recovers(
    postgres_url: str, proxy: _ThreadedProxy, tmp_path: Path
) -> None:
    settings = Settings(data_dir=str(tmp_path), database_url=_through(postgres_url, proxy.port))
    store = await Store.open(settings)
    app: Any = create_app(settings, load_registry(entry_points=False), store=store)
    try:
        org = await make_org(store, "db-down")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=30
        ) as client:
            assert (await client.get("/api/v1/journeys", headers=org.auth())).status_code == 200
            proxy.run(proxy.proxy.cut())
            took: list[float] = []
            # Twice: the pool's connections die with the cut, then new ones are refused.
            for _ in range(2):
                started = time.monotonic()
                down = await client.get("/api/v1/journeys", headers=org.auth())
                took.append(time.monotonic() - started)
                assert down.status_code == 503, down.text
                assert down.headers["content-type"].startswith("application/problem+json")
                assert down.headers["retry-after"]
                assert "database" in down.json()["detail"]
                assert [e["field"] for e in down.json()["errors"]] == ["database"]
                assert took[-1] < 2.0, f"the request took {took[-1]:.2f} s with the database gone"
            proxy.run(proxy.proxy.restore())
            deadline = time.monotonic() + 10
            while (
                up := await client.get("/api/v1/journeys", headers=org.auth())
            ).status_code != 200:
                assert time.monotonic() < deadline, up.text
            print(
                "API request with the database gone: 503 in "
                + ", ".join(f"{t * 1000:.0f} ms" for t in took)
            )
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_busy_pool_and_a_slow_statement_fail_within_their_timeouts(
    postgres_url: str, tmp_path: Path
) -> None:
    environ = {
        "AISLE_DB_ACQUIRE_TIMEOUT_SECONDS": "0.5",
        "AISLE_DB_STATEMENT_TIMEOUT_SECONDS": "0.5",
    }
    settings = Settings(data_dir=str(tmp_path), database_url=postgres_url, environ=environ)
    db = await connect(settings, pool_min=1, pool_max=1)
    try:
        async with db.transaction():  # holds the pool's only connection
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                # A fresh context: outside the transaction, asking the pool.
                await asyncio.create_task(db.execute("SELECT 1"), context=contextvars.Context())
            assert time.monotonic() - started < 1.5
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await db.execute("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 1.5
        assert await db.execute("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await db.close()
