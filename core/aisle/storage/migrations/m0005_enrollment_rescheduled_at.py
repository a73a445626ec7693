"""Enrollments remember when a date change last recomputed their wake-up.

The engine's date triggers apply their past-date policy against this time
(``EnrollmentState.rescheduled_at``), so it must survive between engine calls.
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    del dialect  # the same DDL on SQLite and PostgreSQL
    return ["ALTER TABLE enrollments ADD COLUMN rescheduled_at TIMESTAMPTZ"]
