"""Tests share Redis with whatever else runs there: they write and delete only under
their own namespace, and every Redis user in Aisle takes that namespace from settings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from aisle.api.ratelimit import RedisRateLimiter
from aisle.collab.hub import LiveHub
from aisle.jobs.broker import QUEUE_NAME, build_broker, declare_actor
from aisle.settings import Settings
from tests.conftest import REDIS_BASE_URL, TEST_SECRET_KEY

pytestmark = pytest.mark.redis


@pytest.fixture
def bystander_key() -> Iterator[str]:
    """A key of someone else's (a live Aisle's rate counter), written before ``redis_url``
    is set up and checked after it is torn down: requested first, this fixture wraps it."""
    key = f"aisle:ratelimit:bystander-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS_BASE_URL)
    try:
        client.set(key, "kept", ex=300)
    except redis.ConnectionError:
        client.close()
        pytest.skip(f"Redis is not reachable at {REDIS_BASE_URL}")
    try:
        yield key
        assert client.get(key) == b"kept", "the redis_url fixture deleted a key it did not make"
    finally:
        client.delete(key)
        client.close()


def test_the_fixture_deletes_only_keys_under_its_namespace(
    bystander_key: str, redis_url: str, redis_namespace: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.get(bystander_key) == b"kept"  # set-up flushed nothing of others
        client.set(f"{redis_namespace}:made-by-this-test", "1")
    finally:
        client.close()


def test_leftovers_under_the_namespace_are_gone_when_the_next_test_starts(
    redis_url: str, redis_namespace: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert not list(client.scan_iter(match=f"{redis_namespace}:*"))
    finally:
        client.close()


def _keys(redis_url: str, pattern: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    try:
        return sorted(key.decode() for key in client.scan_iter(match=pattern))
    finally:
        client.close()


async def test_rate_limit_counters_live_under_the_namespace(
    redis_url: str, redis_namespace: str
) -> None:
    limiter = RedisRateLimiter(redis_url, namespace=redis_namespace)
    token = f"token:{uuid.uuid4().hex}"
    try:
        await limiter.hit(token, 5, 60)
    finally:
        await limiter.close()
    assert _keys(redis_url, f"*{token}*") == _keys(redis_url, f"{redis_namespace}:ratelimit:*")
    assert _keys(redis_url, f"*{token}*")


async def test_live_stream_channels_live_under_the_namespace(
    redis_url: str, redis_namespace: str
) -> None:
    journey = str(uuid.uuid4())
    settings = Settings(
        data_dir="/nonexistent",
        database_url="sqlite:///unused",
        redis_url=redis_url,
        queue_namespace=redis_namespace,
        secret_key=TEST_SECRET_KEY,
    )
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with LiveHub.from_settings(settings) as hub, hub.subscribe(journey):
            channels = await admin.pubsub_channels(f"*{journey}*")
    finally:
        await admin.aclose()
    assert channels == [f"{redis_namespace}:journey:{journey}".encode()]


async def test_broker_queues_live_under_the_namespace(redis_url: str, redis_namespace: str) -> None:
    settings = Settings(
        data_dir="/nonexistent",
        database_url="sqlite:///unused",
        redis_url=redis_url,
        queue_namespace=redis_namespace,
        secret_key=TEST_SECRET_KEY,
    )
    broker = build_broker(settings)
    try:

        async def never_run(run_id: str) -> None:
            raise AssertionError(run_id)

        actor = declare_actor(broker, never_run)
        message_id = actor.send("run-that-is-never-executed").message_id
    finally:
        broker.close()
    await asyncio.sleep(0)
    queues = _keys(redis_url, f"*{QUEUE_NAME}*")
    holding = [key for key in queues if message_id in _message_ids(redis_url, key)]
    assert holding and all(key.startswith(f"{redis_namespace}:") for key in holding), holding


def _message_ids(redis_url: str, key: str) -> str:
    client = redis.Redis.from_url(redis_url)
    try:
        kind = client.type(key)
        if kind == b"hash":  # dramatiq's ``<queue>.msgs``: redis id → encoded message
            return " ".join(v.decode() for v in client.hvals(key))
        return ""
    finally:
        client.close()
