"""The live hub: in-process fan-out, and Redis fan-out between two hubs (two processes)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import pytest
from litestar.channels.backends.memory import MemoryChannelsBackend

from aisle.collab.events import (
    LockGranted,
    PresenceLeft,
    decode_event,
    encode_event,
)
from aisle.collab.hub import MISSED, HubUnavailable, LiveHub, Subscription
from aisle.settings import Settings

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def left(journey_id: str, n: int) -> PresenceLeft:
    return PresenceLeft(journey_id=journey_id, at=AT, session_id=f"s{n}", user_id="u")


async def next_message(subscription: Subscription) -> bytes:
    async with asyncio.timeout(5):
        async for item in subscription:
            assert isinstance(item, bytes)
            return item
    raise AssertionError("the subscription ended")


def test_events_round_trip_as_tagged_json():
    event = LockGranted(journey_id="j", at=AT, locks=[])
    data = encode_event(event)
    assert data.startswith(b'{"type":"lock.granted"')
    assert decode_event(data) == event


def test_from_settings_picks_the_backend():
    assert not LiveHub.from_settings(
        Settings(data_dir="/tmp/x", database_url="sqlite:///x")
    ).distributed
    hub = LiveHub.from_settings(
        Settings(
            data_dir="/tmp/x", database_url="sqlite:///x", redis_url="redis://:pw@127.0.0.1:1/0"
        )
    )
    assert hub.distributed
    assert "pw" not in hub.description


async def test_in_process_fan_out_reaches_every_subscriber_of_the_journey_only():
    async with LiveHub.in_process() as hub:
        j, other = str(uuid.uuid4()), str(uuid.uuid4())
        async with hub.subscribe(j) as a, hub.subscribe(j) as b, hub.subscribe(other) as c:
            await hub.publish(left(j, 1))
            await hub.publish(left(other, 2))
            assert decode_event(await next_message(a)) == left(j, 1)
            assert decode_event(await next_message(b)) == left(j, 1)
            assert decode_event(await next_message(c)) == left(other, 2)


async def test_a_slow_subscriber_is_told_it_overflowed():
    async with LiveHub(MemoryChannelsBackend(), max_backlog=3) as hub:
        j = str(uuid.uuid4())
        async with hub.subscribe(j) as slow:
            for n in range(10):
                await hub.publish(left(j, n))
            await asyncio.sleep(0)  # let the hub's worker hand the messages out
            got: list[object] = []
            async with asyncio.timeout(5):
                async for item in slow:
                    got.append(item)
                    if item is MISSED or len(got) > 10:
                        break
            assert MISSED in got


@pytest.mark.redis
async def test_redis_fan_out_between_two_hubs_loses_nothing_after_subscribe(
    redis_url: str, redis_namespace: str
):
    # Two hubs on one Redis stand for two API processes. Whatever A publishes right
    # after B's subscribe returned reaches B: the barrier closed the subscribe gap.
    async with (
        LiveHub.over_redis(redis_url, namespace=redis_namespace) as a,
        LiveHub.over_redis(redis_url, namespace=redis_namespace) as b,
    ):
        for round_ in range(20):
            j = str(uuid.uuid4())
            async with b.subscribe(j) as sub:
                await a.publish(left(j, round_))
                assert decode_event(await next_message(sub)) == left(j, round_)


@pytest.mark.redis
async def test_redis_subscribers_come_and_go_on_one_channel(redis_url: str, redis_namespace: str):
    async with (
        LiveHub.over_redis(redis_url, namespace=redis_namespace) as a,
        LiveHub.over_redis(redis_url, namespace=redis_namespace) as b,
    ):
        j = str(uuid.uuid4())

        async def one_client(n: int) -> None:
            async with b.subscribe(j) as sub:
                await a.publish(left(j, 1000 + n))
                seen: set[str] = set()
                async with asyncio.timeout(5):
                    async for item in sub:
                        assert isinstance(item, bytes)
                        event = decode_event(item)
                        assert isinstance(event, PresenceLeft)
                        seen.add(event.session_id)
                        if f"s{1000 + n}" in seen:
                            return

        await asyncio.gather(*(one_client(n) for n in range(25)))
        # And once everyone has left, a new subscriber still gets what follows.
        async with b.subscribe(j) as sub:
            await a.publish(left(j, 1))
            assert decode_event(await next_message(sub)) == left(j, 1)


async def test_publishing_without_redis_is_logged_not_raised(caplog: pytest.LogCaptureFixture):
    hub = LiveHub.over_redis("redis://:secret@127.0.0.1:1/0", barrier_timeout=1.0)
    async with hub:
        with caplog.at_level(logging.WARNING, logger="aisle.collab.hub"):
            assert await hub.publish(left("j", 1)) is False
        assert "could not publish presence.left" in caplog.text
        assert "secret" not in caplog.text
        with pytest.raises(HubUnavailable):
            async with hub.subscribe("j"):
                pass


@pytest.mark.redis
async def test_a_dropped_redis_connection_is_rebuilt_and_subscribers_told_to_refetch(
    redis_url: str, redis_namespace: str
):
    import redis.asyncio as aioredis

    name = f"aisle-test-{uuid.uuid4().hex[:8]}"
    async with (
        LiveHub.over_redis(redis_url, namespace=redis_namespace) as a,
        LiveHub.over_redis(redis_url, client_name=name, namespace=redis_namespace) as b,
    ):
        j = str(uuid.uuid4())
        async with b.subscribe(j) as sub:
            items = aiter(sub)
            await a.publish(left(j, 1))
            assert decode_event(await anext(items)) == left(j, 1)  # type: ignore[arg-type]
            admin = aioredis.Redis.from_url(redis_url)
            try:
                # What a Redis restart or a failover does to a pub/sub connection (only
                # this hub's: other tests may be listening on the same server).
                killed = 0
                for client in await admin.client_list(_type="pubsub"):
                    if client["name"] == name:
                        killed += await admin.execute_command("CLIENT", "KILL", "ID", client["id"])
                assert killed == 1
            finally:
                await admin.aclose()
            async with asyncio.timeout(10):
                assert await anext(items) is MISSED
            await a.publish(left(j, 2))
            async with asyncio.timeout(5):
                assert decode_event(await anext(items)) == left(j, 2)  # type: ignore[arg-type]
