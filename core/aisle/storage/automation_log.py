"""The automation log of one organization: append and read, never change or delete."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aisle.contracts.log import LogKind
from aisle.domain.action_run import ActionRun
from aisle.domain.automation_log import LogEntry
from aisle.domain.enrollment_record import Enrollment
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped
from aisle.storage.tables import AutomationLogTable as T

__all__ = ["LogRepository", "enrollment_refs", "log_from_row", "run_refs"]

_FIELDS = (
    "contact_id",
    "enrollment_id",
    "journey_id",
    "journey_version",
    "step_id",
    "edge_id",
    "action_run_id",
    "event_id",
)
_COLUMNS = ("id", "organization_id", "at", "kind", "message", "actor", "data", *_FIELDS)
_ROWS = 500
"""Rows per statement: 15 parameters a row stays far below both databases' limits."""


def run_refs(run: ActionRun) -> dict[str, Any]:
    """What a log entry about an action run refers to: the run and where it came from."""
    return {
        "action_run_id": run.id,
        "contact_id": run.contact_id,
        "enrollment_id": run.enrollment_id,
        "journey_id": run.journey_id,
        "journey_version": run.journey_version,
        "step_id": run.step_id,
    }


def enrollment_refs(enrollment: Enrollment) -> dict[str, Any]:
    """What a log entry about an enrollment refers to, down to the step it is on."""
    return {
        "contact_id": enrollment.contact_id,
        "enrollment_id": enrollment.id,
        "journey_id": enrollment.journey_id,
        "journey_version": enrollment.version,
        "step_id": enrollment.state.step_id,
    }


def log_from_row(row: dict[str, Any]) -> LogEntry:
    return from_row(LogEntry, T, row)


class LogRepository(Scoped):
    """Append-only: this class has no update or delete, on purpose."""

    table = T
    kind = "log entry"

    async def append(
        self,
        kind: LogKind,
        *,
        message: str = "",
        actor: str = "system",
        at: datetime | None = None,
        data: dict[str, Any] | None = None,
        **refs: Any,
    ) -> str:
        """Write one entry; ``refs`` are the ids it concerns (``contact_id=…`` etc.).

        ``kind`` is typed so that every writer names a :class:`LogKind`; what is read back
        stays text (entries of a retired kind must still read)."""
        ids = await self.append_many(
            [dict(kind=kind, message=message, actor=actor, at=at, data=data or {}, **refs)]
        )
        return ids[0]

    async def append_many(self, entries: Iterable[dict[str, Any]]) -> list[str]:
        """Write several entries in multi-row statements (a transition's log, a batch's)."""
        now = self.clock.now()
        values: list[tuple[Any, ...]] = []
        ids = []
        for entry in entries:
            unknown = set(entry) - {"kind", "message", "actor", "at", "data", *_FIELDS}
            if unknown:
                raise TypeError(f"unknown log entry fields: {', '.join(sorted(unknown))}")
            entry_id = new_id()
            ids.append(entry_id)
            values.append(
                (
                    entry_id,
                    self.org_id,
                    entry.get("at") or now,
                    str(entry["kind"]),
                    entry.get("message", ""),
                    entry.get("actor", "system"),
                    dump(entry.get("data") or {}),
                    *(entry.get(f) for f in _FIELDS),
                )
            )
        # Hand-written SQL: piccolo builds a many-row INSERT several times slower than
        # the database runs it.
        row = "(" + ", ".join("{}" for _ in _COLUMNS) + ")"
        for start in range(0, len(values), _ROWS):
            chunk = values[start : start + _ROWS]
            await self.db.execute(
                f"INSERT INTO automation_log ({', '.join(_COLUMNS)}) VALUES "
                + ", ".join(row for _ in chunk),
                *[v for entry_values in chunk for v in entry_values],
            )
        return ids

    async def list(
        self,
        *,
        kind: str | None = None,
        contact_id: str | None = None,
        enrollment_id: str | None = None,
        journey_id: str | None = None,
        action_run_id: str | None = None,
        event_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[LogEntry]:
        """Newest first (``before``: older than that id); with ``after`` oldest first
        from that id on (a live tail). ``kind`` ending in ``.`` matches a prefix."""
        kind_filter = None
        if kind:
            kind_filter = T.kind.like(kind + "%") if kind.endswith(".") else T.kind == kind
        query = self._select(
            kind_filter,
            T.contact_id == contact_id if contact_id else None,
            T.enrollment_id == enrollment_id if enrollment_id else None,
            T.journey_id == journey_id if journey_id else None,
            T.action_run_id == action_run_id if action_run_id else None,
            T.event_id == event_id if event_id else None,
            T.at >= since if since else None,
            T.at < until if until else None,
            T.id < before if before else None,
            T.id > after if after else None,
        )
        query = query.order_by(T.id, ascending=after is not None).limit(limit)
        return [log_from_row(r) for r in await query]
