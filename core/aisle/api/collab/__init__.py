"""Collaboration over HTTP: locks, presence, and the live stream (WebSocket and SSE).

:data:`COLLAB_HANDLERS` are mounted under ``/api/v1``; they parse, call the services
of :mod:`aisle.collab` and answer. :func:`collab_lifespan` starts the live hub (Redis
when ``AISLE_REDIS_URL`` is set) and the process's :class:`~aisle.collab.Collaboration`
(``ApiContext.collab``) with the app, and puts the scheduler's sweep on the app's
runtime for as long as that hub is open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar

from aisle.api.collab.fencing import FENCING_TOKENS_PATTERN, fences_from_header
from aisle.api.collab.live import live_socket, live_sse
from aisle.api.collab.locks import FENCED_WRITE_RESPONSE, LockController
from aisle.api.collab.presence import PresenceController
from aisle.api.context import ApiContext
from aisle.collab import CollabConfig, Collaboration, LiveHub
from aisle.collab.sweeper import sweeping

__all__ = [
    "COLLAB_HANDLERS",
    "FENCED_WRITE_RESPONSE",
    "FENCING_TOKENS_PATTERN",
    "collab_lifespan",
    "fences_from_header",
]

COLLAB_HANDLERS: Sequence[Any] = (LockController, PresenceController, live_socket, live_sse)
"""Route handlers mounted under ``/api/v1`` (behind bearer authentication)."""


def collab_lifespan(
    ctx: ApiContext, *, hub: LiveHub | None = None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The app lifespan part that runs collaboration; list it after the one opening
    the store. ``hub`` overrides the one built from the settings (tests)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = ctx.require_store()
        config = CollabConfig.from_environ(ctx.settings.environ)
        live = hub if hub is not None else LiveHub.from_settings(ctx.settings)
        async with live:
            collab = Collaboration(store, live, config)
            ctx.collab = collab
            # The sweep announces on this hub, so it runs only while the hub is open.
            with sweeping(ctx.require_runtime(), live, config):
                try:
                    yield
                finally:
                    await collab.board.drain()
                    ctx.collab = None

    return lifespan
