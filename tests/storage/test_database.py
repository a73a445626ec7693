"""Opening and closing databases."""

from __future__ import annotations

import asyncio

import pytest

from aisle.storage import connect, database


@pytest.mark.postgres
async def test_a_leaked_connection_does_not_hold_close_forever(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "POOL_CLOSE_TIMEOUT", 0.5)  # the real default is 10 s
    db = await connect(postgres_url, pool_min=1, pool_max=2)
    pool = db.engine.pool
    leaked = await pool.acquire()  # never released, as a buggy caller would
    await asyncio.wait_for(db.close(), 5)
    assert pool.is_closing()
    del leaked
    assert db.engine.pool is None
