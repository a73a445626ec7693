"""Moving enrollments between versions of a journey (an admin's migration, via the API).

Kept apart from :mod:`aisle.storage.enrollments`: ordinary engine writes never change
an enrollment's version; only a migration with a step mapping does.
"""

from __future__ import annotations

from aisle.storage.errors import NotFound
from aisle.storage.scoped import Scoped
from aisle.storage.tables import EnrollmentTable as T

__all__ = ["EnrollmentMoves"]


class EnrollmentMoves(Scoped):
    table = T
    kind = "enrollment"

    async def set_version(self, enrollment_id: str, version: int) -> None:
        """Point an active enrollment at another version; call in the state's transaction."""
        rows = await self._update(
            {T.version: version, T.updated_at: self.clock.now()},
            T.id == enrollment_id,
            T.status == "active",
        ).returning(T.id)
        if not rows:
            raise NotFound("active enrollment", enrollment_id)
