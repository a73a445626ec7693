"""Per-token rate limits: a fixed window counter, in Redis when configured.

Several API processes share one Redis, so a token's budget is global; an embedded
single process counts in memory. The counter is an atomic ``INCR`` (plus ``EXPIRE``
on the first hit of a window), so concurrent requests never lose counts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

import msgspec
import redis.asyncio as aioredis

__all__ = ["MemoryRateLimiter", "RateDecision", "RateLimiter", "RedisRateLimiter"]


class RateDecision(msgspec.Struct, frozen=True):
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self, window: int) -> dict[str, str]:
        """IETF draft ``RateLimit`` headers (and ``Retry-After`` when refused)."""
        headers = {
            "RateLimit-Policy": f"{self.limit};w={window}",
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> RateDecision: ...

    async def close(self) -> None: ...


def _decision(count: int, limit: int, reset: float) -> RateDecision:
    return RateDecision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(0, limit - count),
        reset_seconds=max(1, math.ceil(reset)),
    )


class MemoryRateLimiter:
    """Counts in this process (embedded mode, tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}  # key → (window number, count)

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        now = self._clock()
        number = int(now // window)
        current, count = self._windows.get(key, (number, 0))
        count = count + 1 if current == number else 1
        self._windows[key] = (number, count)
        if len(self._windows) > 100_000:  # drop finished windows now and then
            self._windows = {k: v for k, v in self._windows.items() if v[0] == number}
        return _decision(count, limit, (number + 1) * window - now)

    async def close(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    """Counts in Redis, shared by every API process, under ``<namespace>:ratelimit:``
    (``AISLE_QUEUE_NAMESPACE``, so deployments sharing one Redis keep apart)."""

    def __init__(self, url: str, *, namespace: str = "aisle") -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._prefix = f"{namespace}:ratelimit:"

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        now = time.time()
        number = int(now // window)
        name = f"{self._prefix}{key}:{number}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window + 1, nx=True)
            count, _ = await pipe.execute()
        return _decision(int(count), limit, (number + 1) * window - now)

    async def close(self) -> None:
        await self._redis.aclose()
