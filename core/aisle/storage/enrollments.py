"""Enrollments of one organization: which contact is where in which journey version."""

from __future__ import annotations

import builtins
from typing import Any

from aisle.domain.enrollment import EnrollmentState, EnrollmentStatus
from aisle.domain.enrollment_record import Enrollment
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import EnrollmentTable as T

__all__ = ["EnrollmentRepository", "enrollment_from_row"]


def enrollment_from_row(row: dict[str, Any]) -> Enrollment:
    # The engine's part of an enrollment is a struct of its own, read from the same row.
    state = from_row(EnrollmentState, T, row, enrollment_id=row["id"])
    return from_row(Enrollment, T, row, state=state)


def _state_columns(state: EnrollmentState) -> dict[Any, Any]:
    return {
        T.status: state.status,
        T.step_id: state.step_id,
        T.entered_at: state.entered_at,
        T.visit: state.visit,
        T.wake_at: state.wake_at if state.status == "active" else None,
        T.variables: dump(state.variables),
        T.outcome: state.outcome,
        T.error: state.error,
        T.rescheduled_at: state.rescheduled_at,
    }


class EnrollmentRepository(Scoped):
    table = T
    kind = "enrollment"

    @staticmethod
    def new_id() -> str:
        """An id for an enrollment about to start (the engine needs it before the row)."""
        return new_id()

    async def create(
        self, *, contact_id: str, journey_id: str, version: int, state: EnrollmentState
    ) -> Enrollment:
        now = self.clock.now()
        values = {col._meta.name: value for col, value in _state_columns(state).items()}
        rows = await T.insert(
            self._row(
                id=state.enrollment_id,
                contact_id=contact_id,
                journey_id=journey_id,
                version=version,
                created_at=now,
                updated_at=now,
                **values,
            )
        ).returning(*T.all_columns())
        return enrollment_from_row(rows[0])

    async def get(self, enrollment_id: str) -> Enrollment:
        row = await self._first(T.id == enrollment_id)
        if row is None:
            raise NotFound("enrollment", enrollment_id)
        return enrollment_from_row(row)

    async def save(self, state: EnrollmentState) -> None:
        """Write the engine's new state for an enrollment."""
        rows = await self._update(
            {**_state_columns(state), T.updated_at: self.clock.now()},
            T.id == state.enrollment_id,
        ).returning(T.id)
        if not rows:
            raise NotFound("enrollment", state.enrollment_id)

    async def list(
        self,
        *,
        contact_id: str | None = None,
        journey_id: str | None = None,
        version: int | None = None,
        status: EnrollmentStatus | None = None,
        step_id: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> builtins.list[Enrollment]:
        rows = (
            await self._select(
                T.contact_id == contact_id if contact_id else None,
                T.journey_id == journey_id if journey_id else None,
                T.version == version if version is not None else None,
                T.status == status if status else None,
                T.step_id == step_id if step_id else None,
                T.id > after if after else None,
            )
            .order_by(T.id)
            .limit(limit)
        )
        return [enrollment_from_row(r) for r in rows]

    async def active_for_contact(
        self, contact_id: str, *, lock: bool = False
    ) -> builtins.list[Enrollment]:
        """Active enrollments of a contact; ``lock`` takes row locks (PostgreSQL, in a
        transaction) so a scheduler mid-tick on one of them is waited for."""
        query = self._select(T.contact_id == contact_id, T.status == "active").order_by(T.id)
        if lock and self.db.is_postgres:
            query = query.lock_rows("UPDATE")
        rows = await query
        return [enrollment_from_row(r) for r in rows]

    async def for_contact(
        self, contact_id: str, *, lock: bool = False
    ) -> builtins.list[Enrollment]:
        """Every enrollment of a contact, oldest first (active ones and past ones, which
        the re-enrollment policy looks at); ``lock`` as in :meth:`active_for_contact`."""
        query = self._select(T.contact_id == contact_id).order_by(T.id)
        if lock and self.db.is_postgres:
            query = query.lock_rows("UPDATE")
        return [enrollment_from_row(r) for r in await query]

    async def statuses(self, contact_id: str, journey_id: str) -> builtins.list[EnrollmentStatus]:
        """Statuses of the contact's enrollments in a journey, oldest first (re-enrollment)."""
        rows = (
            await self._select(T.contact_id == contact_id, T.journey_id == journey_id)
            .columns(T.status)
            .order_by(T.id)
        )
        return [r["status"] for r in rows]

    async def lock(self, enrollment_id: str) -> Enrollment:
        """Read an enrollment for update (row lock on PostgreSQL, inside a transaction)."""
        query = self._select(T.id == enrollment_id)
        if self.db.is_postgres:
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None:
            raise NotFound("enrollment", enrollment_id)
        return enrollment_from_row(row)

    async def step_counts(self, journey_id: str) -> dict[tuple[int, str | None, str], int]:
        """Clients per (version, step, status) in a journey (the dashboard's step badges)."""
        rows = await self.db.execute(
            "SELECT version, step_id, status, COUNT(*) AS n FROM enrollments "
            "WHERE organization_id = {} AND journey_id = {} GROUP BY version, step_id, status",
            self.org_id,
            journey_id,
        )
        return {(r["version"], r["step_id"], r["status"]): int(r["n"]) for r in rows}

    async def journey_counts(self) -> dict[tuple[str, str], int]:
        """Enrollments per (journey, status) over every journey of the organization, in
        one grouped query (the overview's table)."""
        rows = await self.db.execute(
            "SELECT journey_id, status, COUNT(*) AS n FROM enrollments "
            "WHERE organization_id = {} GROUP BY journey_id, status",
            self.org_id,
        )
        return {(r["journey_id"], r["status"]): int(r["n"]) for r in rows}

    async def with_dead_runs_by_journey(self) -> dict[tuple[str, str], int]:
        """:meth:`with_dead_runs` for every journey at once, per (journey, status).

        Read from the dead runs (few, found by status) to their enrollments by id. The
        ``|| ''`` keeps SQLite's planner off the organization indexes, which led it to
        walk every run and enrollment of the studio (520 -> 30 ms for 10,000 couples
        and 50,000 runs)."""
        rows = await self.db.execute(
            "SELECT journey_id, status, COUNT(*) AS n FROM enrollments "
            "WHERE id IN (SELECT enrollment_id FROM action_runs WHERE status = 'dead' "
            "AND organization_id || '' = {} AND enrollment_id IS NOT NULL) "
            "AND organization_id || '' = {} GROUP BY journey_id, status",
            self.org_id,
            self.org_id,
        )
        return {(r["journey_id"], r["status"]): int(r["n"]) for r in rows}

    async def couples_active(self) -> int:
        """Contacts with at least one active enrollment: the couples in flight."""
        rows = await self.db.execute(
            "SELECT COUNT(DISTINCT contact_id) AS n FROM enrollments "
            "WHERE organization_id = {} AND status = 'active'",
            self.org_id,
        )
        return int(rows[0]["n"]) if rows else 0

    async def with_dead_runs(self, journey_id: str) -> dict[str, int]:
        """Enrollments of a journey with at least one dead action run, per status (a
        ``completed`` one there finished without doing everything it should)."""
        rows = await self.db.execute(
            "SELECT e.status, COUNT(DISTINCT e.id) AS n FROM enrollments e "
            "JOIN action_runs r ON r.organization_id = e.organization_id "
            "AND r.enrollment_id = e.id AND r.status = 'dead' "
            "WHERE e.organization_id = {} AND e.journey_id = {} GROUP BY e.status",
            self.org_id,
            journey_id,
        )
        return {r["status"]: int(r["n"]) for r in rows}
