"""Errors the runtime raises for requests it refuses; each names the field at fault."""

from __future__ import annotations

from datetime import date

from aisle.storage.errors import NotFound

__all__ = ["DateChangeNotConfirmed", "EnrollmentRefused", "RuntimeRefusal", "UnknownContact"]


class UnknownContact(NotFound):
    """An event of a batch names a contact that is not in the organization; ``index``
    is the event's place in the batch (nothing of the batch was accepted)."""

    def __init__(self, contact_id: str, index: int) -> None:
        super().__init__("contact", contact_id)
        self.contact_id = contact_id
        self.index = index


class RuntimeRefusal(Exception):
    """A request the runtime will not carry out as asked. ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DateChangeNotConfirmed(RuntimeRefusal):
    """A date change arrived without ``confirm_date_change=True``: the wedding date, or
    a custom date field (``field`` is ``custom.<name>``) that a pending ``date_reached``
    step reads. ``old`` and ``new`` are the dates (``None`` when not a date)."""

    def __init__(
        self,
        contact_id: str,
        old: date | None,
        new: date | None,
        *,
        field: str = "wedding_date",
    ) -> None:
        super().__init__(
            f"contact {contact_id!r}: changing {field} from "
            f"{old.isoformat() if old else 'none'} to {new.isoformat() if new else 'none'} "
            "moves date-relative steps; confirm the change (confirm_date_change=true)",
            field=field,
        )
        self.contact_id = contact_id
        self.old = old
        self.new = new


class EnrollmentRefused(RuntimeRefusal):
    """Manual enrollment is not possible (not live, manual entry off, re-enrollment policy)."""
