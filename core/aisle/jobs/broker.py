"""dramatiq on Redis: the broker, the ``execute_action_run`` actor, and sending to it.

Only run ids travel through Redis; the database stays the source of truth. Broker
delays are never used for journey waits (months before a wedding): those live in the
database as ``wake_at`` / ``next_attempt_at`` and the relay sends when they are due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware.asyncio import AsyncIO

from aisle.settings import Settings

__all__ = ["ACTOR_NAME", "QUEUE_NAME", "build_broker", "declare_actor"]

ACTOR_NAME = "execute_action_run"
QUEUE_NAME = "aisle_actions"
_ONE_DAY_MS = 24 * 3600 * 1000


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker for ``settings.redis_url`` (namespace ``settings.queue_namespace``).

    ``broker_heartbeat_seconds`` is how long a silent worker's messages stay with it
    before another may take them; claims and leases in the database make a run safe
    to execute again whichever happens first.
    """
    if not settings.redis_url:
        raise ValueError("AISLE_REDIS_URL is not set: production jobs need Redis")
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.redis_url,
        namespace=settings.queue_namespace,
        heartbeat_timeout=int(settings.broker_heartbeat_seconds * 1000),
    )
    broker.add_middleware(AsyncIO())
    return broker


def declare_actor(
    broker: RedisBroker, handler: Callable[[str], Awaitable[None]]
) -> dramatiq.Actor[Any, Any]:
    """Declare ``execute_action_run(run_id)`` on ``broker``, calling ``handler``.

    dramatiq's own retries are off: a failed attempt is rescheduled in the database,
    with backoff and attempt limits per executor.
    """

    async def execute_action_run(run_id: str) -> None:
        await handler(run_id)

    decorate = dramatiq.actor(
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        max_retries=0,
        time_limit=_ONE_DAY_MS,
    )
    actor: dramatiq.Actor[Any, Any] = decorate(execute_action_run)
    return actor
