"""An enrollment's engine state: where one contact stands in one journey version."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = ["EnrollmentState", "EnrollmentStatus"]

EnrollmentStatus = Literal["active", "completed", "exited", "failed"]


class EnrollmentState(msgspec.Struct, frozen=True, kw_only=True):
    """The part of an enrollment the pure engine reads and replaces.

    ``visit`` counts step entries; with the enrollment id it makes every action run's
    idempotency key unique per visit and identical on a replay of the same visit.
    ``wake_at`` is the earliest time a time-based trigger of the current step fires.
    ``rescheduled_at`` is when a date change last recomputed that wake-up (``None``
    until one does; reset on entering a step): date triggers apply their past-date
    policy against it.
    """

    enrollment_id: str
    status: EnrollmentStatus = "active"
    step_id: str | None = None
    entered_at: datetime | None = None
    visit: int = 0
    wake_at: datetime | None = None
    variables: dict[str, Any] = {}
    outcome: str | None = None
    error: str | None = None
    rescheduled_at: datetime | None = None
