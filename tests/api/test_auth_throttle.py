"""Bad bearer tokens are throttled per client address: after N failures in a window,
every attempt from there gets a 429 problem with ``Retry-After`` until it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.api.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from aisle.api.throttle import AuthThrottle, address_key
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import make_org, open_client
from tests.api.test_problems import is_problem

WRONG = {"Authorization": "Bearer aisle_not-a-token"}


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def clients(
    store: Store,
    registry: Registry,
    tmp_path: Path,
    limiter: RateLimiter,
    *addresses: str,
    limit: int = 3,
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """The API with a failure limit of ``limit`` a minute, and a client per address."""
    app = create_app(
        Settings(data_dir=str(tmp_path)),
        registry,
        store=store,
        config=ApiConfig(rate_limit=0, auth_failure_limit=limit, auth_failure_window_seconds=60),
        limiter=limiter,
    )
    async for _ in open_client(app):  # runs the app's lifespan around the clients
        others = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                base_url="http://testserver",
            )
            for address in addresses
        ]
        try:
            yield others
        finally:
            for client in others:
                await client.aclose()


async def test_bad_tokens_from_one_address_get_429_then_nothing_is_tried(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    org = await make_org(store, "throttled")
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    async with clients(store, registry, tmp_path, limiter, "203.0.113.9", "192.0.2.4") as (
        attacker,
        studio,
    ):
        for _ in range(3):
            assert (await attacker.get("/api/v1/me", headers=WRONG)).status_code == 401
        refused = await attacker.get("/api/v1/me", headers=WRONG)
        body = is_problem(refused, 429)
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert "too many failed sign-ins" in body["detail"]
        # A right token from there is refused too: a guess made now is never checked.
        assert (await attacker.get("/api/v1/me", headers=org.auth())).status_code == 429
        # Nobody else is held up, and a valid token never counts as a failure.
        for _ in range(5):
            assert (await studio.get("/api/v1/me", headers=org.auth())).status_code == 200
        # A missing header guesses nothing: 401 with the hint, not counted.
        assert (await studio.get("/api/v1/me")).status_code == 401
        assert (await studio.get("/api/v1/me", headers=WRONG)).status_code == 401

        clock.now += 60  # the window ends
        assert (await attacker.get("/api/v1/me", headers=org.auth())).status_code == 200


async def test_one_ipv6_subscriber_counts_as_one_address(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    await make_org(store, "sixes")
    limiter = MemoryRateLimiter()
    addresses = [f"2001:db8:1:2::{n:x}" for n in range(1, 5)]
    async with clients(store, registry, tmp_path, limiter, *addresses) as hopping:
        statuses = [(await c.get("/api/v1/me", headers=WRONG)).status_code for c in hopping]
    assert statuses == [401, 401, 401, 429]


async def test_a_limit_of_zero_turns_the_throttle_off(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    async with clients(store, registry, tmp_path, MemoryRateLimiter(), "203.0.113.10", limit=0) as (
        client,
    ):
        for _ in range(30):
            assert (await client.get("/api/v1/me", headers=WRONG)).status_code == 401


@pytest.mark.redis
async def test_failures_count_across_api_processes_in_redis(
    store: Store, registry: Registry, tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    one = RedisRateLimiter(redis_url, namespace=redis_namespace)
    two = RedisRateLimiter(redis_url, namespace=redis_namespace)
    async with (
        clients(store, registry, tmp_path / "one", one, "203.0.113.11") as (first,),
        clients(store, registry, tmp_path / "two", two, "203.0.113.11") as (second,),
    ):
        assert (await first.get("/api/v1/me", headers=WRONG)).status_code == 401
        assert (await second.get("/api/v1/me", headers=WRONG)).status_code == 401
        assert (await first.get("/api/v1/me", headers=WRONG)).status_code == 401
        is_problem(await second.get("/api/v1/me", headers=WRONG), 429)


def test_addresses_are_counted_per_ipv4_address_and_ipv6_slash_64() -> None:
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address_key(None) == "unknown"


async def test_an_account_is_throttled_whatever_address_it_is_tried_from() -> None:
    # Password sign-in (a later release) names the account; guesses spread over many
    # addresses still add up for it, and only for it.
    throttle = AuthThrottle(MemoryRateLimiter(), limit=2, window=60)
    await throttle.failed("192.0.2.1", "Ana@Studio.example")
    await throttle.failed("192.0.2.2", "ana@studio.example ")
    assert await throttle.retry_after("192.0.2.3", "ana@studio.example") is not None
    assert await throttle.retry_after("192.0.2.3", "ben@studio.example") is None
    assert await throttle.retry_after("192.0.2.3") is None
