"""The scheduler's collaboration sweep, run by :func:`aisle.jobs.scheduler.scheduler_pass`.

Each process that runs scheduler passes puts the sweeper on its runtime, with the hub
its announcements go out on, for as long as that hub is open: ``aisle serve``
(embedded) with the API's in-process hub, so canvases connected to it hear about
expiries; ``aisle scheduler`` with a Redis hub of its own (:func:`scheduler_sweeper`),
so every API process hears about them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from aisle.collab.config import CollabConfig
from aisle.collab.hub import LiveHub
from aisle.collab.service import sweep
from aisle.settings import Settings
from aisle.storage.store import Store

if TYPE_CHECKING:
    from aisle.runtime.service import Runtime

__all__ = ["SWEEPER_NAME", "scheduler_sweeper", "sweeping"]

SWEEPER_NAME = "collaboration"


@contextmanager
def sweeping(runtime: Runtime, hub: LiveHub, config: CollabConfig) -> Iterator[None]:
    """While open, every scheduler pass on ``runtime`` expires leases and silent
    sessions and announces it on ``hub`` (which must outlive the context)."""

    async def sweeper(store: Store) -> int:
        report = await sweep(store.db, store.clock, hub, config)
        return report.locks_expired + report.sessions_timed_out

    runtime.sweepers[SWEEPER_NAME] = sweeper
    try:
        yield
    finally:
        if runtime.sweepers.get(SWEEPER_NAME) is sweeper:
            del runtime.sweepers[SWEEPER_NAME]


@asynccontextmanager
async def scheduler_sweeper(settings: Settings, runtime: Runtime) -> AsyncIterator[LiveHub]:
    """For a scheduler process without an API app: a hub from the settings (Redis in
    production) that ``runtime``'s passes sweep onto, for as long as the context is open."""
    async with LiveHub.from_settings(settings) as hub:
        with sweeping(runtime, hub, CollabConfig.from_environ(settings.environ)):
            yield hub
