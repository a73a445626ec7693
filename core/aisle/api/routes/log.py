"""The automation log: every transition, action, error and admin act, filterable."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery
from msgspec import Meta

from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QueryId, QueryKind, page_of
from aisle.domain.automation_log import LogEntry
from aisle.services.errors import Refused

__all__ = ["LogController", "LogEntryOut", "log_out"]

Id = Annotated[str, Meta(min_length=1, max_length=200)]


class LogEntryOut(msgspec.Struct, kw_only=True):
    id: str
    at: datetime
    kind: str
    message: str
    actor: str
    contact_id: str | None
    enrollment_id: str | None
    journey_id: str | None
    journey_version: int | None
    step_id: str | None
    edge_id: str | None
    action_run_id: str | None
    event_id: str | None
    data: dict[str, Any]


def log_out(entry: LogEntry) -> LogEntryOut:
    return LogEntryOut(**{f: getattr(entry, f) for f in LogEntryOut.__struct_fields__})


class LogPage(msgspec.Struct, kw_only=True):
    items: list[LogEntryOut]
    next_cursor: str | None


class LogController(Controller):
    path = "/log"
    tags = ["log"]

    @get("/", summary="Read the automation log (newest first)")
    async def read_log(
        self,
        call: Call,
        limit: Limit = 100,
        cursor: Cursor = None,
        journey_id: QueryId = None,
        contact_id: QueryId = None,
        enrollment_id: QueryId = None,
        action_run_id: QueryId = None,
        kind: QueryKind = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> LogPage:
        """``kind`` ending in ``.`` matches a prefix (``enrollment.``); ``since`` is
        inclusive, ``until`` exclusive; pass ``next_cursor`` back as ``cursor``."""
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise Refused(422, f"{name} must carry a timezone (e.g. 2026-06-01T00:00:00Z)")
        entries = await call.scope.log.list(
            kind=kind or None,
            journey_id=journey_id,
            contact_id=contact_id,
            enrollment_id=enrollment_id,
            action_run_id=action_run_id,
            since=since,
            until=until,
            before=cursor,
            limit=limit + 1,
        )
        page, next_cursor = page_of(entries, limit, lambda e: e.id)
        return LogPage(items=[log_out(e) for e in page], next_cursor=next_cursor)
