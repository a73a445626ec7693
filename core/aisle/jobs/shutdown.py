"""How long a stopping process lets its work finish, and what it does with the rest.

On SIGTERM every process kind stops taking work, lets what it started finish for up to
``AISLE_SHUTDOWN_GRACE_SECONDS``, then cancels what is left: a cancelled attempt gives
its claim back (:func:`aisle.jobs.execute.execute_run`), so nothing stays claimed by a
process that is gone and another takes the run at once.
"""

from __future__ import annotations

import asyncio

from aisle.env import env_number
from aisle.settings import Settings

__all__ = ["DEFAULT_GRACE_SECONDS", "cancel_other_tasks", "shutdown_grace"]

DEFAULT_GRACE_SECONDS = 30.0


def shutdown_grace(settings: Settings) -> float:
    """``AISLE_SHUTDOWN_GRACE_SECONDS``: each stopping phase's bound (in-flight requests,
    then current attempts)."""
    return env_number(settings.environ, "AISLE_SHUTDOWN_GRACE_SECONDS", DEFAULT_GRACE_SECONDS)


async def cancel_other_tasks() -> int:
    """Cancel every task of this loop but the caller and wait for them to unwind; how
    many there were."""
    current = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    return len(others)
