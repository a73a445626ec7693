"""The live hub: per-journey fan-out of stream messages, in process or through Redis.

Built on Litestar channels. With ``AISLE_REDIS_URL`` set the hub uses the Redis
pub/sub backend, so a message published by one API process (or the scheduler)
reaches the subscribers of every process; without Redis it is in-process (embedded
mode, one ``aisle serve``).

Redis pub/sub confirms a subscription asynchronously, and a message published before
the server processed ``SUBSCRIBE`` is lost for that subscriber. A client that reads
the op log right after subscribing must not fall into that gap, so the first
subscription to a journey in a process waits for a *barrier*: it publishes a private
marker on the channel and waits until the marker comes back. Everything published
after the barrier is delivered. Markers never reach clients.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from types import TracebackType
from typing import Final

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.channels.subscriber import Subscriber
from redis.asyncio import Redis

from aisle.collab.events import LiveEvent, encode_event
from aisle.settings import Settings, redact_url

__all__ = ["OVERFLOW", "HubUnavailable", "LiveHub", "Subscription", "channel_for"]

log = logging.getLogger(__name__)

_MARKER: Final = b"\x00aisle-barrier:"


class _Overflow:
    def __repr__(self) -> str:
        return "OVERFLOW"


OVERFLOW: Final = _Overflow()
"""Yielded by a :class:`Subscription` whose client fell so far behind that messages
were dropped: the client must be told to refetch."""


class HubUnavailable(RuntimeError):
    """The live stream cannot be set up (Redis unreachable or not answering)."""


def channel_for(journey_id: str) -> str:
    """The pub/sub channel of one journey (journey ids are globally unique)."""
    return f"aisle:journey:{journey_id}"


class _Subscriber(Subscriber):
    """A Litestar subscriber that remembers when its backlog overflowed."""

    overflowed = False

    def put_nowait(self, item: bytes | None) -> bool:
        accepted = super().put_nowait(item)
        if not accepted:
            self.overflowed = True
        return accepted


class Subscription:
    """One client's view of a journey's stream: raw JSON messages, oldest first."""

    def __init__(self, subscriber: _Subscriber, early: list[bytes]) -> None:
        self._subscriber = subscriber
        self._early = early

    def __aiter__(self) -> AsyncIterator[bytes | _Overflow]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes | _Overflow]:
        for item in self._early:
            yield item
        self._early = []
        async for item in self._subscriber.iter_events():
            if self._subscriber.overflowed:
                self._subscriber.overflowed = False
                yield OVERFLOW
            if not item.startswith(_MARKER):
                yield item


class LiveHub:
    """Publish stream messages for a journey; subscribe to one journey's messages.

    Use as an async context manager (or register :attr:`plugin` with a Litestar app,
    which starts and stops it with the app).
    """

    def __init__(
        self,
        backend: ChannelsBackend,
        *,
        redis: Redis | None = None,
        max_backlog: int = 5000,
        barrier_timeout: float = 5.0,
        description: str = "in-process",
    ) -> None:
        self._redis = redis
        self._barrier_timeout = barrier_timeout
        self.description = description
        self.plugin = ChannelsPlugin(
            backend=backend,
            arbitrary_channels_allowed=True,
            subscriber_max_backlog=max_backlog,
            subscriber_backlog_strategy="backoff",
            subscriber_class=_Subscriber,
        )
        self._local: dict[str, int] = {}
        self._ready: dict[str, asyncio.Future[None]] = {}

    @classmethod
    def in_process(cls, **options: float) -> LiveHub:
        """Fan-out inside this process only (embedded mode, tests)."""
        return cls(MemoryChannelsBackend(), **options)  # type: ignore[arg-type]

    @classmethod
    def over_redis(cls, url: str, **options: float) -> LiveHub:
        """Fan-out across processes through Redis pub/sub at ``url``."""
        redis = Redis.from_url(url)
        return cls(
            RedisChannelsPubSubBackend(redis=redis),
            redis=redis,
            description=f"redis {redact_url(url)}",
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveHub:
        """Redis when ``AISLE_REDIS_URL`` is set, in-process otherwise."""
        if settings.redis_url:
            return cls.over_redis(settings.redis_url)
        return cls.in_process()

    @property
    def distributed(self) -> bool:
        """Whether messages cross process boundaries (Redis)."""
        return self._redis is not None

    async def __aenter__(self) -> LiveHub:
        await self.plugin.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.plugin.__aexit__(exc_type, exc, tb)
        finally:
            if self._redis is not None:
                await self._redis.aclose()

    async def publish(self, event: LiveEvent) -> bool:
        """Send ``event`` to every subscriber of its journey, in every process.

        The database is the source of truth and the stream only reports it, so a
        failure to publish is logged, not raised (clients catch up on reconnect).
        """
        try:
            await self.plugin.wait_published(encode_event(event), channel_for(event.journey_id))
        except Exception as exc:
            log.warning(
                "live stream (%s): could not publish %s for journey %s: %s",
                self.description,
                type(event).__struct_config__.tag,
                event.journey_id,
                exc,
            )
            return False
        return True

    async def publish_all(self, events: list[LiveEvent]) -> None:
        for event in events:
            await self.publish(event)

    @asynccontextmanager
    async def subscribe(self, journey_id: str) -> AsyncIterator[Subscription]:
        """Receive the journey's messages while the context is open.

        Every message published after this returns is delivered (see the barrier in
        the module docstring); raises :class:`HubUnavailable` when that cannot be
        guaranteed.
        """
        channel = channel_for(journey_id)
        try:
            subscriber = await self.plugin.subscribe(channel)
        except Exception as exc:
            raise HubUnavailable(f"live stream ({self.description}) unavailable: {exc}") from exc
        assert isinstance(subscriber, _Subscriber)
        self._local[channel] = self._local.get(channel, 0) + 1
        try:
            early = await self._barrier(channel, subscriber)
            yield Subscription(subscriber, early)
        finally:
            # Forget readiness before awaiting anything: a subscriber arriving while
            # the backend unsubscribes must set up (and wait for) a fresh barrier.
            remaining = self._local[channel] - 1
            if remaining:
                self._local[channel] = remaining
            else:
                del self._local[channel]
                self._ready.pop(channel, None)
            try:
                await self.plugin.unsubscribe(subscriber, channel)
            except Exception as exc:
                log.warning("live stream (%s): unsubscribe failed: %s", self.description, exc)

    async def _barrier(self, channel: str, subscriber: _Subscriber) -> list[bytes]:
        if self._redis is None:
            return []
        ready = self._ready.get(channel)
        if ready is not None:
            try:
                async with asyncio.timeout(self._barrier_timeout):
                    await asyncio.shield(ready)
            except TimeoutError:
                raise HubUnavailable(
                    f"live stream ({self.description}): subscription not confirmed"
                ) from None
            return []
        ready = asyncio.get_running_loop().create_future()
        self._ready[channel] = ready
        marker = _MARKER + secrets.token_hex(8).encode()
        early: list[bytes] = []
        try:
            async with asyncio.timeout(self._barrier_timeout):
                await self.plugin.wait_published(marker, channel)
                async with aclosing(subscriber.iter_events()) as items:
                    async for item in items:
                        if item == marker:
                            break
                        if not item.startswith(_MARKER):
                            early.append(item)
        except Exception as exc:
            if self._ready.get(channel) is ready:
                del self._ready[channel]
            ready.set_exception(HubUnavailable(str(exc) or type(exc).__name__))
            ready.exception()  # retrieved here; waiters get their own error
            raise HubUnavailable(
                f"live stream ({self.description}): subscription not confirmed: "
                f"{exc or type(exc).__name__}"
            ) from exc
        ready.set_result(None)
        return early
