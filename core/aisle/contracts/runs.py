"""Where an action run is in its delivery: :class:`ActionRunStatus`.

Members are strings (:class:`~enum.StrEnum`): what is stored, filtered on and shown by
the API is the value itself (``"dead"``).
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["FINISHED_RUN_STATUSES", "ActionRunStatus"]


@unique
class ActionRunStatus(StrEnum):
    """``pending``: due at ``next_attempt_at``; ``running``: claimed by a worker until
    ``lease_expires_at``; ``failed``: the last attempt failed and a retry is due at
    ``next_attempt_at``; ``dead``: out of attempts or a permanent error (retry by hand);
    ``succeeded`` and ``cancelled`` are final."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"


FINISHED_RUN_STATUSES: frozenset[ActionRunStatus] = frozenset(
    {ActionRunStatus.SUCCEEDED, ActionRunStatus.DEAD, ActionRunStatus.CANCELLED}
)
"""Statuses a run never leaves by itself."""
