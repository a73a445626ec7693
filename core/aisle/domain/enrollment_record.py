"""An enrollment as stored: one contact in one journey version, with its engine state."""

from __future__ import annotations

from datetime import datetime

import msgspec

from aisle.domain.enrollment import EnrollmentState

__all__ = ["Enrollment"]


class Enrollment(msgspec.Struct, frozen=True, kw_only=True):
    """Where a contact stands in a journey; ``state`` is what the pure engine reads."""

    id: str
    organization_id: str
    contact_id: str
    journey_id: str
    version: int
    state: EnrollmentState
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def status(self) -> str:
        return self.state.status
