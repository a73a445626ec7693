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

    async def peek(self, key: str, limit: int, window: int) -> RateDecision:
        """The decision the last hit of this window got, without counting one more."""
        ...

    async def close(self) -> None: ...


def _decision(count: int, limit: int, reset: float) -> RateDecision:
    return RateDecision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(0, limit - count),
        reset_seconds=max(1, math.ceil(reset)),
    )


_PRUNE_AT = 100_000
"""Entries the in-memory limiter holds before it drops finished windows."""


class MemoryRateLimiter:
    """Counts in this process (embedded mode, tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # key → (window number, count, window length): keys of different window lengths
        # share the dict, so each entry says when its own window ends.
        self._windows: dict[str, tuple[int, int, int]] = {}
        self._prune_at = _PRUNE_AT

    def _count(self, key: str, window: int, now: float) -> tuple[int, int]:
        number = int(now // window)
        current, count, _ = self._windows.get(key, (number, 0, window))
        return number, count if current == number else 0

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        now = self._clock()
        number, count = self._count(key, window, now)
        self._windows[key] = (number, count + 1, window)
        if len(self._windows) > self._prune_at:
            self._prune(now)
        return _decision(count + 1, limit, (number + 1) * window - now)

    async def peek(self, key: str, limit: int, window: int) -> RateDecision:
        now = self._clock()
        number, count = self._count(key, window, now)
        return _decision(count, limit, (number + 1) * window - now)

    def _prune(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if (v[0] + 1) * v[2] > now}
        # Many live keys (one per address under attack): prune again only once the dict
        # has doubled, so a hit never pays for a full scan each time.
        self._prune_at = max(_PRUNE_AT, 2 * len(self._windows))

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

    async def peek(self, key: str, limit: int, window: int) -> RateDecision:
        now = time.time()
        number = int(now // window)
        count = await self._redis.get(f"{self._prefix}{key}:{number}")
        return _decision(int(count or 0), limit, (number + 1) * window - now)

    async def close(self) -> None:
        await self._redis.aclose()
