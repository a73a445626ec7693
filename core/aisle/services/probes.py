"""What the health and metrics endpoints ask of the database and Redis, each bounded.

A probe never waits longer than its timeout: a database or Redis that stopped answering
makes ``/readyz`` say so within the second, instead of holding the load balancer's check.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from aisle.metrics import Backlog
from aisle.storage.backlog import read_backlog
from aisle.storage.store import Store

__all__ = ["BacklogCache", "Failure", "check_dependencies"]

PROBE_TIMEOUT = 1.0


@dataclass(frozen=True)
class Failure:
    dependency: str
    """``database`` or ``redis``."""
    reason: str


async def _ping_database(store: Store) -> None:
    await store.db.execute("SELECT 1")


async def _ping_redis(url: str, seconds: float) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_timeout=seconds, socket_connect_timeout=seconds)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _probe(name: str, check: Awaitable[None], seconds: float) -> Failure | None:
    try:
        await asyncio.wait_for(check, seconds)
    except TimeoutError:
        return Failure(name, f"no answer within {seconds:g} s")
    except Exception as exc:
        return Failure(name, type(exc).__name__)
    return None


async def check_dependencies(
    store: Store | None, redis_url: str | None, *, seconds: float = PROBE_TIMEOUT
) -> list[Failure]:
    """The dependencies that do not answer (the database, Redis when configured), probed
    together, each within ``seconds``."""
    probes = []
    if store is None:
        failures = [Failure("database", "not opened yet")]
    else:
        failures = []
        probes.append(_probe("database", _ping_database(store), seconds))
    if redis_url:
        probes.append(_probe("redis", _ping_redis(redis_url, seconds), seconds))
    for failure in await asyncio.gather(*probes):
        if failure is not None:
            failures.append(failure)
    return failures


class BacklogCache:
    """The backlog gauges, read at most every ``ttl`` seconds however often scraped."""

    def __init__(self, ttl: float = 5.0, timeout: float = PROBE_TIMEOUT * 2) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._value: Backlog | None = None
        self._store: Store | None = None
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, store: Store) -> Backlog | None:
        """The backlog, or ``None`` when the database did not answer in time (the
        scrape then shows the process counters without the gauges)."""
        async with self._lock:
            if store is not self._store or time.monotonic() - self._at >= self.ttl:
                self._store = store
                try:
                    self._value = await asyncio.wait_for(read_backlog(store.clock), self.timeout)
                except Exception:
                    self._value = None
                self._at = time.monotonic()
            return self._value
