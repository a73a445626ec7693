"""The relay: hands due action runs from the outbox table to whoever executes them."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from aisle.jobs.deps import JobDeps

__all__ = ["Dispatch", "relay_once"]

Dispatch = Callable[[str], Awaitable[None] | None]
"""Receives a run id: dramatiq's ``actor.send`` or the embedded runner's executor."""


async def relay_once(deps: JobDeps, dispatch: Dispatch, *, limit: int | None = None) -> int:
    """Dispatch every due run not recently handed out (one batch); returns how many.

    A run is marked dispatched in the same transaction that picks it; if its message is
    lost, it is handed out again after ``settings.redispatch_seconds``. Handing a run
    out twice is harmless: only one claim succeeds.
    """
    settings = deps.settings
    ids = await deps.store.outbox.take_due(
        limit=limit or settings.batch_size, redispatch_after=settings.redispatch_seconds
    )
    for run_id in ids:
        sent = dispatch(run_id)
        if inspect.isawaitable(sent):
            await sent
    return len(ids)
