"""/livez, /readyz and /healthz, with PostgreSQL cut off behind a real TCP proxy."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from aisle.api import create_app
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.ops.tcp_proxy import TcpProxy


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


@pytest.mark.postgres
async def test_readyz_names_the_database_fast_while_it_is_gone_and_recovers(
    postgres_url: str, tmp_path: Path
) -> None:
    target = urlsplit(postgres_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    settings = Settings(data_dir=str(tmp_path), database_url=_through(postgres_url, proxy.port))
    store = await Store.open(settings)
    app: Any = create_app(settings, load_registry(entry_points=False), store=store)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            assert (await client.get("/readyz")).status_code == 200
            await proxy.cut()
            started = time.monotonic()
            down = await client.get("/readyz")
            took = time.monotonic() - started
            assert down.status_code == 503, down.text
            problem = down.json()
            assert down.headers["content-type"].startswith("application/problem+json")
            assert "database" in problem["detail"]
            assert [e["field"] for e in problem["errors"]] == ["database"]
            assert took < 2.5, f"/readyz took {took:.2f} s with the database gone"
            # Liveness never asks the database: the process is up.
            assert (await client.get("/livez")).status_code == 200
            assert (await client.get("/healthz")).status_code == 200
            await proxy.restore()
            deadline = time.monotonic() + 10
            while (answer := await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, answer.text
            print(f"/readyz with the database gone: 503 in {took * 1000:.0f} ms")
    finally:
        await store.close()


async def test_readyz_names_redis_when_it_is_configured_and_gone(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings = Settings(data_dir=str(tmp_path), redis_url="redis://127.0.0.1:1/0")
    store = await Store.open(settings)
    app: Any = create_app(settings, load_registry(entry_points=False), store=store)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            answer = await client.get("/readyz")
    finally:
        await store.close()
    assert answer.status_code == 503
    assert [e["field"] for e in answer.json()["errors"]] == ["redis"]
    assert answer.headers["retry-after"] == "1"


async def test_metrics_can_be_turned_off_or_need_a_token(tmp_path: Path) -> None:
    token = "scrape-secret-0123456789"
    for value, anonymous, with_token in (("off", 404, 404), (f"token:{token}", 401, 200)):
        settings = Settings(data_dir=str(tmp_path), environ={"AISLE_METRICS": value})
        store = await Store.open(settings)
        app: Any = create_app(settings, load_registry(entry_points=False), store=store)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client:
                assert (await client.get("/metrics")).status_code == anonymous
                auth = {"Authorization": f"Bearer {token}"}
                assert (await client.get("/metrics", headers=auth)).status_code == with_token
        finally:
            await store.close()
