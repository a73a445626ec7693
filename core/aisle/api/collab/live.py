"""The live stream of a journey: WebSocket ``/api/v1/journeys/{id}/live`` (canvases)
and Server-Sent Events ``/api/v1/journeys/{id}/live/sse`` (the dashboard).

Both send the messages of :mod:`aisle.collab.events`, as JSON, starting with
``hello``. Connect with ``?since=<revision>`` (SSE: the ``Last-Event-ID`` header does
it for you) to receive the operations applied after that revision, or a ``refetch``
when they cannot be replayed.

WebSocket clients may send ``{"type": "heartbeat", "session_id": …, "cursor": …,
"viewport": …, "selection": […]}`` instead of HTTP heartbeats, and ``{"type": "ping"}``
(answered by ``pong``). With ``?session_id=`` the socket owns that presence session:
closing it leaves the session at once. Browsers cannot set ``Authorization`` on a
WebSocket: offer the subprotocols ``aisle.v1`` and ``aisle.bearer.<token>`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from msgspec import UNSET, UnsetType

from aisle.api.collab.presence import Cursor, ViewportIn, plain
from aisle.api.collab.services import presence_for, stream_for
from aisle.api.context import ApiCall, ApiContext, Caller
from aisle.api.deps import Call
from aisle.collab import HubUnavailable, PresenceService
from aisle.services.errors import Refused
from aisle.storage.errors import NotFound

__all__ = ["SUBPROTOCOL", "live_socket", "live_sse"]

log = logging.getLogger(__name__)

SUBPROTOCOL = "aisle.v1"
KEEPALIVE_SECONDS = 15.0


# -- WebSocket -----------------------------------------------------------------------


class _Heartbeat(msgspec.Struct, tag="heartbeat", tag_field="type", forbid_unknown_fields=True):
    session_id: str
    cursor: Cursor | UnsetType | None = UNSET
    viewport: ViewportIn | UnsetType | None = UNSET
    selection: list[str] | UnsetType = UNSET


class _Ping(msgspec.Struct, tag="ping", tag_field="type"):
    pass


_inbound = msgspec.json.Decoder(_Heartbeat | _Ping)


def _close_code(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, Refused):
        return 4000 + exc.status, exc.detail
    if isinstance(exc, NotFound):
        return 4404, str(exc)
    if isinstance(exc, HubUnavailable):
        return 1013, "the live stream is unavailable; retry shortly"
    return 1011, "internal error"


def _subprotocol(socket: WebSocket[Any, Any, Any]) -> str | None:
    offered = socket.scope.get("subprotocols") or []
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


@websocket(
    "/journeys/{journey_id:str}/live",
    summary="Live stream of a journey (WebSocket)",
)
async def live_socket(
    socket: WebSocket[Any, Any, Any],
    journey_id: FromPath[str],
    since: Annotated[int | None, QueryParameter(ge=0)] = None,
    session_id: Annotated[str | None, QueryParameter()] = None,
) -> None:
    """Presence, locks and graph changes of one journey, as they happen."""
    await socket.accept(subprotocols=_subprotocol(socket))
    ctx: ApiContext = socket.app.state.aisle
    caller: Caller = socket.user
    call = ApiCall(ctx, caller)
    send_lock = asyncio.Lock()

    async def send(data: bytes | str) -> None:
        async with send_lock:
            await socket.send_data(data, mode="text")

    try:
        stream = stream_for(call)
        presence = presence_for(call)
        journey = await stream.open(journey_id)
    except (Refused, NotFound) as exc:
        code, reason = _close_code(exc)
        await send(msgspec.json.encode({"type": "error", "status": code - 4000, "detail": reason}))
        await socket.close(code=code, reason=reason[:120])
        return

    async def forward() -> None:
        async for data, _ in stream.messages(journey.id, since):
            await send(data)

    forwarder = asyncio.create_task(forward())
    try:
        await _receive(socket, presence, journey.id, send, forwarder)
    except WebSocketDisconnect:
        pass
    except Exception as exc:
        code, reason = _close_code(exc)
        if code == 1011:
            log.exception("live stream of journey %s failed", journey.id)
        with contextlib.suppress(Exception):
            await socket.close(code=code, reason=reason[:120])
    finally:
        forwarder.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forwarder
        if session_id is not None:
            with contextlib.suppress(Exception):
                await presence.leave(journey.id, session_id)


async def _receive(
    socket: WebSocket[Any, Any, Any],
    presence: PresenceService,
    journey_id: str,
    send: Callable[[bytes | str], Awaitable[None]],
    forwarder: asyncio.Task[None],
) -> None:
    """Read client messages until the client goes away or the stream fails."""
    while True:
        receiving = asyncio.ensure_future(socket.receive_data("text"))
        done, _ = await asyncio.wait({receiving, forwarder}, return_when=asyncio.FIRST_COMPLETED)
        if forwarder in done:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await receiving
            forwarder.result()  # raises what broke the stream
            return
        raw = receiving.result()
        try:
            message = _inbound.decode(raw)
        except msgspec.DecodeError as exc:
            await send(msgspec.json.encode({"type": "error", "status": 400, "detail": str(exc)}))
            continue
        if isinstance(message, _Ping):
            await send(b'{"type":"pong"}')
            continue
        try:
            await presence.heartbeat(
                journey_id,
                message.session_id,
                cursor=plain(message.cursor),
                viewport=plain(message.viewport),
                selection=message.selection,
            )
        except NotFound as exc:
            await send(
                msgspec.json.encode(
                    {
                        "type": "error",
                        "status": 404,
                        "detail": f"{exc}: it ended; join again",
                        "session_id": message.session_id,
                    }
                )
            )


# -- Server-Sent Events -------------------------------------------------------------


def _event_type(data: bytes) -> str:
    # Messages are encoded by msgspec with the tag first: {"type":"<tag>",…
    start = len(b'{"type":"')
    return data[start : data.index(b'"', start)].decode()


async def _with_keepalive(
    messages: AsyncIterator[tuple[bytes, int | None]], interval: float
) -> AsyncIterator[tuple[bytes, int | None] | None]:
    """Yield ``None`` whenever ``interval`` passes without a message (for a comment
    line that keeps proxies from closing an idle stream)."""
    queue: asyncio.Queue[tuple[bytes, int | None] | BaseException | StopAsyncIteration] = (
        asyncio.Queue()
    )

    async def pump() -> None:
        try:
            async for item in messages:
                await queue.put(item)
        except Exception as exc:
            await queue.put(exc)
        else:
            await queue.put(StopAsyncIteration())

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                async with asyncio.timeout(interval):
                    item = await queue.get()
            except TimeoutError:
                yield None
                continue
            if isinstance(item, StopAsyncIteration):
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@get(
    "/journeys/{journey_id:str}/live/sse",
    summary="Live stream of a journey (Server-Sent Events)",
    description="The same messages as the WebSocket, one SSE event each (``event`` is "
    "the message type; ``id`` the draft revision for messages that carry one).",
    media_type="text/event-stream",
)
async def live_sse(
    call: Call,
    journey_id: FromPath[str],
    since: Annotated[int | None, QueryParameter(ge=0)] = None,
    last_event_id: Annotated[
        str | None, HeaderParameter(name="Last-Event-ID", required=False)
    ] = None,
) -> ServerSentEvent:
    stream = stream_for(call)
    journey = await stream.open(journey_id)
    if since is None and last_event_id and last_event_id.isdigit():
        since = int(last_event_id)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        messages = stream.messages(journey.id, since)
        async for item in _with_keepalive(messages, KEEPALIVE_SECONDS):
            if item is None:
                yield ServerSentEventMessage(comment="keepalive")
                continue
            data, revision = item
            yield ServerSentEventMessage(
                data=data.decode(),
                event=_event_type(data),
                id=revision if revision is not None else None,
            )

    return ServerSentEvent(events(), headers={"Cache-Control": "no-cache"})
