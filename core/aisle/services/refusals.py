"""Every exception that means "refused as asked" rather than "broken", for entry points
that show a refusal on the page instead of a problem document (the dashboard): the
services' :class:`~aisle.services.errors.Refused`, the runtime's refusals, and the
storage layer's missing rows and conflicting states."""

from __future__ import annotations

from aisle.runtime.errors import RuntimeRefusal
from aisle.services.errors import Refused
from aisle.storage.errors import Conflict, NotFound

__all__ = ["REFUSALS", "refusal"]

REFUSALS = (Refused, RuntimeRefusal, Conflict, NotFound)


def refusal(exc: Exception) -> tuple[int, str]:
    """The HTTP status and the sentence for one of :data:`REFUSALS` (as the API maps them)."""
    if isinstance(exc, Refused):
        return exc.status, exc.detail
    if isinstance(exc, NotFound):
        return 404, str(exc)
    return 409, str(exc)
