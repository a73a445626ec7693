"""Conflict records: refused canvas edits (and CRM disagreements) kept until resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta

from aisle.api.canvas import canvas_for
from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QueryKind
from aisle.canvas.flow_ops import FlowOp, OpBatch
from aisle.canvas.service import OpsOutcome
from aisle.contracts.log import LogKind
from aisle.domain.conflict import ConflictRecord, ConflictStatus
from aisle.services.errors import Refused
from aisle.services.roles import ensure_journey_role, ensure_role

__all__ = ["ConflictController"]


class ConflictOut(msgspec.Struct, kw_only=True):
    """A conflict. For ``graph`` conflicts ``ours`` is what the draft holds and
    ``theirs`` the refused value; ``detail.op`` is the refused operation."""

    id: str
    kind: str
    field: str
    ours: Any
    theirs: Any
    base: Any
    journey_id: str | None
    contact_id: str | None
    target: str | None
    status: ConflictStatus
    detail: dict[str, Any]
    created_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: Any


def conflict_out(record: ConflictRecord) -> ConflictOut:
    return ConflictOut(
        **{f: getattr(record, f) for f in ConflictOut.__struct_fields__}  # same field names
    )


class ConflictPage(msgspec.Struct, kw_only=True):
    items: list[ConflictOut]
    next_cursor: str | None


class Resolution(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``keep``: the stored value stays (the record is resolved). ``apply``: the refused
    value is applied now, on top of the current draft. ``dismiss``: close without a
    decision."""

    choice: Literal["keep", "apply", "dismiss"]
    note: Annotated[str, Meta(max_length=2000)] = ""


class ResolutionOut(msgspec.Struct, kw_only=True):
    conflict: ConflictOut
    outcome: OpsOutcome | None = None


async def _page(
    call: ApiCall,
    limit: int,
    cursor: str | None,
    status: ConflictStatus | None,
    kind: str | None,
    journey_id: str | None,
) -> ConflictPage:
    records = await call.scope.conflicts.list(
        status=status, kind=kind, journey_id=journey_id, limit=limit + 1, before=cursor
    )
    page = records[:limit]
    return ConflictPage(
        items=[conflict_out(r) for r in page],
        next_cursor=page[-1].id if len(records) > limit and page else None,
    )


class ConflictController(Controller):
    path = "/"
    tags = ["conflicts"]

    @get("/conflicts", summary="List conflict records (newest first)")
    async def list_conflicts(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        status: FromQuery[ConflictStatus | None] = None,
        kind: QueryKind = None,
    ) -> ConflictPage:
        return await _page(call, limit, cursor, status, kind, None)

    @get("/journeys/{journey_id:str}/conflicts", summary="Conflict records of one journey")
    async def journey_conflicts(
        self,
        call: Call,
        journey_id: FromPath[str],
        limit: Limit = 50,
        cursor: Cursor = None,
        status: FromQuery[ConflictStatus | None] = None,
    ) -> ConflictPage:
        journey = await call.scope.journeys.get(journey_id)
        return await _page(call, limit, cursor, status, None, journey.id)

    @get("/conflicts/{conflict_id:str}", summary="Read a conflict record")
    async def get_conflict(self, call: Call, conflict_id: FromPath[str]) -> ConflictOut:
        return conflict_out(await call.scope.conflicts.get(conflict_id))

    @post("/conflicts/{conflict_id:str}/resolve", summary="Resolve a conflict", status_code=200)
    async def resolve_conflict(
        self, call: Call, conflict_id: FromPath[str], data: JSONBody[Resolution]
    ) -> ResolutionOut:
        record = await call.scope.conflicts.get(conflict_id)
        if record.journey_id is not None:
            await call.scope.journeys.get(record.journey_id, include_deleted=True)
            await ensure_journey_role(
                call.caller, call.collaborators, record.journey_id, "editor", "resolving a conflict"
            )
        else:
            ensure_role(call.caller, "admin", "resolving this conflict")
        if record.status != "open":
            raise Refused(409, f"conflict {record.id!r} is already {record.status}")
        outcome: OpsOutcome | None = None
        if data.choice == "apply":
            outcome = await _apply_refused(call, record)
        resolved = await call.scope.conflicts.resolve(
            record.id,
            by=call.caller.actor,
            status="dismissed" if data.choice == "dismiss" else "resolved",
            resolution={
                "choice": data.choice,
                "note": data.note,
                **({"revision": outcome.revision} if outcome else {}),
            },
        )
        await call.scope.log.append(
            LogKind.CONFLICT_RESOLVED,
            actor=call.caller.actor,
            journey_id=record.journey_id,
            contact_id=record.contact_id,
            message=f"conflict on {record.field} resolved: {data.choice}",
            data={"conflict_id": record.id, "choice": data.choice},
        )
        return ResolutionOut(conflict=conflict_out(resolved), outcome=outcome)


async def _apply_refused(call: ApiCall, record: ConflictRecord) -> OpsOutcome:
    if record.kind != "graph" or record.journey_id is None or "op" not in record.detail:
        raise Refused(
            422,
            f"a {record.kind!r} conflict cannot be applied here; resolve it with 'keep' or "
            "'dismiss' and make the change where it belongs",
        )
    journey = await call.scope.journeys.get(record.journey_id)
    raw = dict(record.detail["op"])
    raw["id"] = f"{raw.get('id', 'op')}~resolve~{record.id}"
    raw["base_revision"] = journey.revision
    op = msgspec.convert(raw, FlowOp)  # type: ignore[arg-type]
    outcome = await canvas_for(call).apply_ops(
        journey.id, OpBatch(base_revision=journey.revision, ops=[op], atomic=True)
    )
    if outcome.rejected:
        raise Refused(409, "the refused value conflicts again; read the flow and retry")
    return outcome
