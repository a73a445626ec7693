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
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from contextlib import aclosing, asynccontextmanager
from types import TracebackType
from typing import Any, Final

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.channels.subscriber import Subscriber
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aisle.collab.events import LiveEvent, encode_event
from aisle.settings import Settings, redact_url

__all__ = ["MISSED", "HubUnavailable", "LiveHub", "Subscription", "channel_for"]

log = logging.getLogger(__name__)

_MARKER: Final = b"\x00aisle-barrier:"


class _Missed:
    def __repr__(self) -> str:
        return "MISSED"


MISSED: Final = _Missed()
"""Yielded by a :class:`Subscription` when messages may have been lost — the client
fell so far behind that its backlog overflowed, or the connection to Redis dropped
and was re-established: the client must be told to refetch."""

_GAP: Final = _MARKER + b"gap"


class HubUnavailable(RuntimeError):
    """The live stream cannot be set up (Redis unreachable or not answering)."""


def channel_for(journey_id: str, namespace: str = "aisle") -> str:
    """The pub/sub channel of one journey (journey ids are globally unique), under the
    deployment's ``AISLE_QUEUE_NAMESPACE``."""
    return f"{namespace}:journey:{journey_id}"


class _ReconnectingRedisBackend(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend, surviving a dropped connection.

    Upstream, a connection error ends the channels plugin's receiving task for good:
    the process would stop delivering messages without a word. Here the pub/sub
    connection is rebuilt (with backoff), its channels subscribed again, and every
    subscriber of those channels is sent a gap marker (messages published meanwhile
    are lost; clients refetch).
    """

    def __init__(self, *, redis: Redis) -> None:
        super().__init__(redis=redis)
        self._connection: PubSub | None = None
        # Litestar decides to unsubscribe, then awaits; a subscriber arriving in
        # between sends SUBSCRIBE, and redis-py may put the stale UNSUBSCRIBE on the
        # wire after it — the server then drops the channel while the client believes
        # it is subscribed. Membership changes go one at a time, and an unsubscribe
        # skips channels that have local subscribers again by then.
        self._membership = asyncio.Lock()
        self.wanted: Callable[[str], bool] = lambda channel: False

    async def subscribe(self, channels: Iterable[str]) -> None:
        async with self._membership:
            await super().subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        async with self._membership:
            unwanted = [channel for channel in channels if not self.wanted(channel)]
            if unwanted:
                await super().unsubscribe(unwanted)

    @property
    def _pub_sub(self) -> PubSub:
        if self._connection is None:
            self._connection = self._redis.pubsub()
        return self._connection

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            try:
                async for event in super().stream_events():
                    yield event
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("live stream: Redis pub/sub connection lost (%s); reconnecting", exc)
                channels = await self._reconnect()
                for channel in channels:
                    yield channel, _GAP

    async def _reconnect(self) -> list[str]:
        async with self._membership:
            return await self._resubscribe()

    async def _resubscribe(self) -> list[str]:
        old = self._connection
        channels = (
            [c.decode() if isinstance(c, bytes) else str(c) for c in old.channels] if old else []
        )
        self._connection = None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.aclose()  # type: ignore[no-untyped-call]
        delay = 0.05
        while True:
            try:
                if channels:
                    await self._pub_sub.subscribe(*channels)
                else:
                    await self._redis.ping()
                log.info("live stream: Redis pub/sub reconnected (%d channels)", len(channels))
                return channels
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("live stream: Redis still unreachable (%s); retrying", exc)
                if self._connection is not None:
                    with contextlib.suppress(Exception):
                        await self._connection.aclose()  # type: ignore[no-untyped-call]
                    self._connection = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


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

    def __aiter__(self) -> AsyncIterator[bytes | _Missed]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes | _Missed]:
        for item in self._early:
            yield item
        self._early = []
        async for item in self._subscriber.iter_events():
            if self._subscriber.overflowed:
                self._subscriber.overflowed = False
                yield MISSED
            if item == _GAP:
                yield MISSED
            elif not item.startswith(_MARKER):
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
        namespace: str = "aisle",
    ) -> None:
        self._redis = redis
        self._namespace = namespace
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
    def over_redis(
        cls,
        url: str,
        *,
        client_name: str = "aisle-live",
        namespace: str = "aisle",
        **options: float,
    ) -> LiveHub:
        """Fan-out across processes through Redis pub/sub at ``url`` on channels under
        ``namespace`` (its connections are named ``client_name`` in ``CLIENT LIST``)."""
        redis = Redis.from_url(url, client_name=client_name)
        backend = _ReconnectingRedisBackend(redis=redis)
        hub = cls(
            backend,
            redis=redis,
            description=f"redis {redact_url(url)}",
            namespace=namespace,
            **options,  # type: ignore[arg-type]
        )
        backend.wanted = hub._has_local_subscribers
        return hub

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveHub:
        """Redis when ``AISLE_REDIS_URL`` is set, in-process otherwise."""
        if settings.redis_url:
            # Named per process, so an operator can tell whose connections they see.
            return cls.over_redis(
                settings.redis_url,
                client_name=f"aisle-live-{os.getpid()}",
                namespace=settings.queue_namespace,
            )
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
            channel = channel_for(event.journey_id, self._namespace)
            await self.plugin.wait_published(encode_event(event), channel)
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
        channel = channel_for(journey_id, self._namespace)
        # Counted before subscribing, so a concurrent unsubscribe keeps the channel;
        # the first local subscriber owns the barrier, the others wait for it.
        first = not self._local.get(channel)
        self._local[channel] = self._local.get(channel, 0) + 1
        if first and self._redis is not None:
            self._ready[channel] = asyncio.get_running_loop().create_future()
        try:
            subscriber = await self.plugin.subscribe(channel)
        except Exception as exc:
            self._fail_ready(channel, exc)
            self._leave(channel)
            raise HubUnavailable(f"live stream ({self.description}) unavailable: {exc}") from exc
        assert isinstance(subscriber, _Subscriber)
        try:
            early = await self._barrier(channel, subscriber, first)
            yield Subscription(subscriber, early)
        finally:
            # Forget readiness before awaiting anything: a subscriber arriving while
            # the backend unsubscribes must set up (and wait for) a fresh barrier.
            self._leave(channel)
            try:
                await self.plugin.unsubscribe(subscriber, channel)
            except Exception as exc:
                log.warning("live stream (%s): unsubscribe failed: %s", self.description, exc)

    def _has_local_subscribers(self, channel: str) -> bool:
        return self._local.get(channel, 0) > 0

    def _leave(self, channel: str) -> None:
        remaining = self._local[channel] - 1
        if remaining:
            self._local[channel] = remaining
        else:
            del self._local[channel]
            self._ready.pop(channel, None)

    def _fail_ready(self, channel: str, exc: BaseException) -> None:
        ready = self._ready.pop(channel, None)
        if ready is not None and not ready.done():
            ready.set_exception(HubUnavailable(str(exc) or type(exc).__name__))
            ready.exception()  # retrieved here; each waiter raises its own error

    async def _barrier(self, channel: str, subscriber: _Subscriber, first: bool) -> list[bytes]:
        if self._redis is None:
            return []
        ready = self._ready.get(channel)
        if ready is not None and not first:
            try:
                async with asyncio.timeout(self._barrier_timeout):
                    await asyncio.shield(ready)
            except (TimeoutError, HubUnavailable) as exc:
                raise HubUnavailable(
                    f"live stream ({self.description}): subscription not confirmed ({exc})"
                ) from None
            return []
        if ready is None:  # the previous owner's barrier failed: take it over
            ready = asyncio.get_running_loop().create_future()
            self._ready[channel] = ready
        marker = _MARKER + secrets.token_hex(8).encode()

        async def send_marker() -> None:
            # A PUBLISH on another connection may overtake our SUBSCRIBE at the server:
            # repeat the marker until one copy comes back.
            delay = 0.05
            while True:
                await self.plugin.wait_published(marker, channel)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)

        early: list[bytes] = []
        sender = asyncio.create_task(send_marker())
        try:
            async with asyncio.timeout(self._barrier_timeout):
                async with aclosing(subscriber.iter_events()) as items:
                    async for item in items:
                        if item == marker:
                            break
                        if not item.startswith(_MARKER):
                            early.append(item)
                    else:
                        raise HubUnavailable("the subscription ended")
        except Exception as exc:
            self._fail_ready(channel, exc)
            raise HubUnavailable(
                f"live stream ({self.description}): subscription not confirmed: "
                f"{exc or type(exc).__name__}"
            ) from exc
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        ready.set_result(None)
        return early
