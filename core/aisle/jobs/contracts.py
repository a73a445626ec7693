"""What an action executor receives and what it may raise.

Executors run in workers with at-least-once delivery: the same run may be executed
again after a crash, so every external effect must carry ``ActionContext.idempotency_key``
(as an SMTP Message-ID, a webhook-id, an Idempotency-Key header, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import msgspec

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionResult",
    "ActionServices",
    "PermanentError",
    "RetryableError",
]


class ActionError(Exception):
    """Base of the errors an executor raises on purpose."""


class RetryableError(ActionError):
    """A transient failure: the run is retried with backoff.

    ``retry_after`` (seconds) overrides the backoff when the remote said when to retry.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ActionError):
    """A failure retrying cannot fix (bad address, 4xx): the run is dead at once."""


class ActionResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an executor reports after a successful run (stored on the action run)."""

    detail: Mapping[str, Any] = {}


class ActionServices(Protocol):
    """The narrow set of platform services an executor may call."""

    async def create_task(
        self,
        *,
        title: str,
        assignee: str,
        due_at: datetime | None,
        step_id: str | None,
        required_approvals: int,
        details: Mapping[str, Any],
    ) -> str:
        """Create a task for the run's contact; returns the task id (idempotent per run)."""
        ...

    async def emit_event(
        self, *, type: str, payload: Mapping[str, Any], idempotency_key: str
    ) -> None:
        """Record an event for the run's organization, as if it had arrived from outside."""
        ...

    def setting(self, name: str, default: str | None = None) -> str | None:
        """Read an operator setting (environment ``AISLE_<NAME>``)."""
        ...


class ActionContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an executor's ``execute`` may look at for one attempt."""

    run_id: str
    organization_id: str
    idempotency_key: str
    attempt: int
    config: Any
    contact: Mapping[str, Any]
    studio: Mapping[str, Any]
    now: datetime
    services: ActionServices
