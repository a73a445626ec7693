"""Events processed just after the request that accepted them has answered.

A call that accepts many events at once (``POST /contacts/batch``) commits them
``pending`` and answers; processing them one contact at a time inside the request
would make the caller wait for every journey they start. Committed events are durable,
so they are handed to a background task of this process instead, at once. If the
process stops first, the scheduler's event recovery processes what is still pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["AfterCommit"]

log = logging.getLogger(__name__)

ProcessContact = Callable[[str, str], Awaitable[object]]
"""Processes the pending events of contact ``(org_id, contact_id)``."""


class AfterCommit:
    """Background tasks processing the pending events of given contacts."""

    def __init__(self, process: ProcessContact) -> None:
        self._process = process
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def busy(self) -> bool:
        """Whether a task is still processing."""
        return bool(self._tasks)

    def process(self, org_id: str, contact_ids: Sequence[str]) -> None:
        """Start processing the pending events of ``contact_ids`` (already committed) in
        a task of the running event loop, in this order; returns at once."""
        if not contact_ids:
            return
        task = asyncio.create_task(
            self._run(org_id, list(dict.fromkeys(contact_ids))), name="aisle-after-commit"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Stop the tasks after the contact each is processing, and wait for them.

        Not cancelled: a cancellation inside a transaction can strand a pooled
        connection. What they leave pending, the scheduler's event recovery processes.
        """
        self._stopping = True
        try:
            while self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            self._stopping = False

    async def wait(self) -> None:
        """Wait until every task has finished its contacts (tests and benches)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, org_id: str, contact_ids: list[str]) -> None:
        for contact_id in contact_ids:
            if self._stopping:
                return
            try:
                await self._process(org_id, contact_id)
            except Exception:  # the event stays pending: recovery retries it
                log.exception(
                    "processing the events of contact %s of organization %s failed",
                    contact_id,
                    org_id,
                )
