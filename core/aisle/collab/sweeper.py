"""The scheduler's collaboration sweep: registered with :mod:`aisle.jobs.scheduler`.

Each process that runs scheduler passes installs the sweeper with the hub its
announcements go out on: ``aisle serve`` (embedded) with the API's in-process hub, so
canvases connected to it hear about expiries; ``aisle scheduler`` with a Redis hub of
its own (:func:`scheduler_sweeper`), so every API process hears about them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aisle.collab.config import CollabConfig
from aisle.collab.hub import LiveHub
from aisle.collab.service import sweep
from aisle.jobs.scheduler import register_sweeper
from aisle.settings import Settings
from aisle.storage.store import Store

__all__ = ["SWEEPER_NAME", "install_sweeper", "scheduler_sweeper"]

SWEEPER_NAME = "collaboration"


def install_sweeper(hub: LiveHub, config: CollabConfig) -> None:
    """Have every scheduler pass of this process expire leases and silent sessions."""

    async def sweeper(store: Store) -> int:
        report = await sweep(store.db, store.clock, hub, config)
        return report.locks_expired + report.sessions_timed_out

    register_sweeper(SWEEPER_NAME, sweeper)


@asynccontextmanager
async def scheduler_sweeper(settings: Settings) -> AsyncIterator[LiveHub]:
    """For a scheduler process without an API app: a hub from the settings (Redis in
    production) with the sweeper installed on it, for as long as the context is open."""
    async with LiveHub.from_settings(settings) as hub:
        install_sweeper(hub, CollabConfig.from_environ(settings.environ))
        yield hub
