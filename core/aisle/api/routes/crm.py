"""``/crm``: a studio's CRM connections, their syncs, held changes and CSV files.

Admins (and owners) create, change, test and delete connections; editors sync, cancel,
decide held changes and import or export CSV files; viewers read. Credentials go in
and never come out: a connection says which credential fields are set, not their
values. The work is :mod:`aisle.crm`'s; these handlers parse, call it and answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.pages import Limit
from aisle.api.problems import problem_spec
from aisle.crm.connections import ConnectionService
from aisle.crm.csv_export import CSVExports
from aisle.crm.csv_import import CSVImports, CSVPreview
from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.crm.held import HeldChanges
from aisle.crm.runs import SyncRuns
from aisle.domain.crm_connection import CRMConnection, SyncDirection
from aisle.domain.held_change import HeldChange, HeldChangeStatus
from aisle.domain.sync_run import SyncRun
from aisle.services.errors import FieldError, Refused
from aisle.storage.credentials import CredentialError

__all__ = ["CRMController", "ConnectionIn", "ConnectionOut", "ConnectionPatch"]

_SPOOL_BYTES = 1 << 20
"""A CSV body larger than this is spooled to a temporary file, not held in memory."""

Name = Annotated[str, Meta(min_length=1, max_length=200)]


class ConnectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: Annotated[str, Meta(min_length=1, max_length=63)]
    name: Name
    credentials: dict[str, Any] = {}
    """The provider's credential fields; stored encrypted, never answered."""
    direction: SyncDirection = "pull"
    field_mapping: dict[str, str] | None = None
    """``<kind>.<field>`` → Aisle field; replaces or adds to the provider's defaults."""
    conflicts: dict[str, str] | None = None
    protected: list[str] | None = None
    schedule_seconds: int | None = None


class ConnectionPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    credentials: dict[str, Any] | UnsetType = UNSET
    direction: SyncDirection | UnsetType = UNSET
    field_mapping: dict[str, str] | UnsetType = UNSET
    conflicts: dict[str, str] | UnsetType = UNSET
    protected: list[str] | UnsetType = UNSET
    schedule_seconds: int | UnsetType | None = UNSET
    """``null`` stops periodic syncs."""
    enabled: bool | UnsetType = UNSET


class ConnectionOut(msgspec.Struct, kw_only=True):
    id: str
    provider: str
    name: str
    direction: SyncDirection
    field_mapping: dict[str, str]
    conflicts: dict[str, str]
    protected: list[str]
    schedule_seconds: int | None
    enabled: bool
    status: str
    last_error: str | None
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    credentials_set: list[str]
    """Which credential fields hold a value (the values are never answered)."""
    credentials_usable: bool
    """False when the stored credentials no longer decrypt or fit the provider."""
    inbound_url: str | None = None
    """Where the CRM posts this connection's webhooks (under ``AISLE_PUBLIC_URL``, else
    a path on this server); ``null`` when the provider takes none."""


class ConnectionList(msgspec.Struct, kw_only=True):
    items: list[ConnectionOut]


class ConnectionTestOut(msgspec.Struct, kw_only=True):
    ok: bool
    detail: str


class RunOut(msgspec.Struct, kw_only=True):
    run: SyncRun
    queued: bool
    """False when the connection already had a run queued or going (that run is answered)."""


class RunList(msgspec.Struct, kw_only=True):
    items: list[SyncRun]
    next_before: str | None
    """Pass as ``before`` for older runs."""


class HeldOut(msgspec.Struct, kw_only=True):
    id: str
    connection_id: str
    contact_id: str
    field: str
    """The Aisle contact field (``venue``, ``wedding_date``, ``custom.planner``)."""
    old: Any = None
    """As Aisle has it (``null``: unset)."""
    new: Any = None
    """As the CRM has it."""
    reason: str
    status: HeldChangeStatus
    run_id: str | None
    created_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None


def _held(change: HeldChange) -> HeldOut:
    return HeldOut(
        id=change.id,
        connection_id=change.connection_id,
        contact_id=change.contact_id,
        field=change.field,
        old=change.old,
        new=change.new,
        reason=change.reason,
        status=change.status,
        run_id=change.run_id,
        created_at=change.created_at,
        decided_at=change.decided_at,
        decided_by=change.decided_by,
    )


class HeldList(msgspec.Struct, kw_only=True):
    items: list[HeldOut]
    next_before: str | None


class PreviewOut(msgspec.Struct, kw_only=True):
    preview: CSVPreview


def _deps(call: ApiCall) -> CRMDeps:
    try:
        return CRMDeps.of(call.runtime)
    except CredentialError:
        # Without the operator's key no credential can be stored or read; setting it
        # and retrying succeeds, so not the caller's fault.
        raise Refused(503, "CRM connections need AISLE_SECRET_KEY set on this server") from None


async def _out(call: ApiCall, connection: CRMConnection) -> ConnectionOut:
    deps = _deps(call)
    try:
        credentials = msgspec.to_builtins(await deps.credentials(call.scope, connection))
        usable = True
    except UnusableConnection:
        credentials, usable = {}, False
    filled = sorted(k for k, v in (credentials or {}).items() if v not in (None, ""))
    return ConnectionOut(
        id=connection.id,
        provider=connection.provider,
        name=connection.name,
        direction=connection.direction,
        field_mapping=connection.field_mapping,
        conflicts=dict(connection.conflicts),
        protected=list(connection.protected),
        schedule_seconds=connection.schedule_seconds,
        enabled=connection.enabled,
        status=connection.status,
        last_error=connection.last_error,
        last_sync_at=connection.last_sync_at,
        next_sync_at=connection.next_sync_at,
        credentials_set=filled,
        credentials_usable=usable,
        inbound_url=ConnectionService(deps, call.scope, call.caller).inbound_url(connection),
    )


def _columns(raw: str | None) -> dict[str, str] | None:
    """``columns`` as a JSON object of Aisle field → CSV header."""
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw, type=dict[str, str])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Refused(
            422,
            f"columns: a JSON object of Aisle field to CSV header: {exc}",
            slug="validation",
            errors=[FieldError(message=str(exc), field="columns")],
        ) from None


async def _csv_body(request: Request[Any, Any, Any]) -> tuple[IO[bytes], int]:
    """The CSV file of the request (a raw ``text/csv`` body or the ``file`` part of a
    multipart form), spooled as it arrives, and its size."""
    media_type = request.content_type[0]
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned
    if media_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            spool.close()
            raise Refused(
                400,
                "file: send the CSV as the form's file part",
                slug="validation",
                errors=[FieldError(message="missing", field="file")],
            )
        while chunk := await upload.read(1 << 16):
            spool.write(chunk)
    elif media_type in ("text/csv", "application/octet-stream", "text/plain"):
        async for chunk in request.stream():
            spool.write(chunk)
    elif not media_type:
        spool.close()
        raise Refused(
            422,
            "body: send the CSV file (text/csv, or the file part of multipart/form-data)",
            slug="validation",
            errors=[FieldError(message="missing", field="body")],
        )
    else:
        spool.close()
        raise Refused(415, f"send text/csv or multipart/form-data, not {media_type}")
    size = spool.tell()
    spool.seek(0)
    return spool, size


_CSV_BODY = {
    400: problem_spec("The form has no file part"),
    404: problem_spec("No such connection in this organization"),
    409: problem_spec(
        "The provider takes no CSV files, the connection only pushes, or it is syncing"
    ),
    413: problem_spec("The file is larger than the server accepts (`AISLE_MAX_BODY_BYTES`)"),
    415: problem_spec("The body is neither text/csv nor multipart/form-data"),
    422: problem_spec(
        "No body, columns not a JSON object, an unknown format, a column of an unknown "
        "field, the key column missing"
    ),
}


class CRMController(Controller):
    path = "/crm"
    tags = ["crm"]

    # -- connections -----------------------------------------------------------------

    @get("/connections", summary="List CRM connections")
    async def list_connections(self, call: Call) -> ConnectionList:
        service = ConnectionService(_deps(call), call.scope, call.caller)
        return ConnectionList(items=[await _out(call, c) for c in await service.list()])

    @post(
        "/connections",
        summary="Connect a CRM (admins); credentials are checked and stored encrypted",
        status_code=201,
        responses={
            409: problem_spec("A connection of this name exists"),
            422: problem_spec(
                "Unknown provider, credentials that do not fit it, a direction it cannot "
                "sync, an unknown mapped field, a schedule shorter than allowed"
            ),
        },
    )
    async def create_connection(self, call: Call, data: JSONBody[ConnectionIn]) -> ConnectionOut:
        service = ConnectionService(_deps(call), call.scope, call.caller)
        created = await service.create(
            provider=data.provider,
            name=data.name,
            credentials=data.credentials,
            direction=data.direction,
            field_mapping=data.field_mapping,
            conflicts=data.conflicts,
            protected=data.protected,
            schedule_seconds=data.schedule_seconds,
        )
        return await _out(call, created)

    @get("/connections/{crm_connection_id:str}", summary="Read a CRM connection")
    async def get_connection(self, call: Call, crm_connection_id: FromPath[str]) -> ConnectionOut:
        service = ConnectionService(_deps(call), call.scope, call.caller)
        return await _out(call, await service.get(crm_connection_id))

    @patch(
        "/connections/{crm_connection_id:str}",
        summary="Change a CRM connection (admins): only the fields given",
        responses={422: problem_spec("A value the provider refuses (named in errors)")},
    )
    async def update_connection(
        self, call: Call, crm_connection_id: FromPath[str], data: JSONBody[ConnectionPatch]
    ) -> ConnectionOut:
        service = ConnectionService(_deps(call), call.scope, call.caller)

        def given(value: Any) -> Any:
            return None if value is UNSET else value

        updated = await service.update(
            crm_connection_id,
            credentials=given(data.credentials),
            direction=given(data.direction),
            field_mapping=given(data.field_mapping),
            conflicts=given(data.conflicts),
            protected=given(data.protected),
            schedule_seconds=given(data.schedule_seconds),
            unschedule=data.schedule_seconds is None,
            enabled=given(data.enabled),
        )
        return await _out(call, updated)

    @delete(
        "/connections/{crm_connection_id:str}",
        summary="Delete a CRM connection (admins); its contacts stay",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_connection(self, call: Call, crm_connection_id: FromPath[str]) -> None:
        await ConnectionService(_deps(call), call.scope, call.caller).delete(crm_connection_id)

    @post(
        "/connections/{crm_connection_id:str}/test",
        summary="Try a connection's credentials against the CRM (admins)",
        status_code=200,
    )
    async def test_connection(
        self, call: Call, crm_connection_id: FromPath[str]
    ) -> ConnectionTestOut:
        tried = await ConnectionService(_deps(call), call.scope, call.caller).test(
            crm_connection_id
        )
        return ConnectionTestOut(ok=tried.ok, detail=tried.detail)

    # -- sync runs -------------------------------------------------------------------

    @post(
        "/connections/{crm_connection_id:str}/sync",
        summary="Sync a connection now (editors): queues a run, or answers the one going",
        status_code=202,
        responses={409: problem_spec("The provider does not pull, or the connection only pushes")},
    )
    async def sync_now(self, call: Call, crm_connection_id: FromPath[str]) -> RunOut:
        run, created = await SyncRuns(_deps(call), call.scope, call.caller).request(
            crm_connection_id
        )
        return RunOut(run=run, queued=created)

    @get("/runs", summary="Sync history: runs newest first, with counts and failures")
    async def list_runs(
        self,
        call: Call,
        connection_id: FromQuery[str | None] = None,
        limit: Limit = 50,
        before: FromQuery[str | None] = None,
    ) -> RunList:
        runs = await SyncRuns(_deps(call), call.scope, call.caller).history(
            connection_id=connection_id, limit=limit, before=before
        )
        return RunList(items=runs, next_before=runs[-1].id if runs and len(runs) == limit else None)

    @get("/runs/{sync_run_id:str}", summary="A sync run and its progress (phase, seen, total)")
    async def get_run(self, call: Call, sync_run_id: FromPath[str]) -> SyncRun:
        return await SyncRuns(_deps(call), call.scope, call.caller).get(sync_run_id)

    @post(
        "/runs/{sync_run_id:str}/cancel",
        summary="Cancel a sync run (editors): it stops after its current page",
        status_code=200,
        responses={409: problem_spec("The run is over")},
    )
    async def cancel_run(self, call: Call, sync_run_id: FromPath[str]) -> SyncRun:
        return await SyncRuns(_deps(call), call.scope, call.caller).cancel(sync_run_id)

    # -- held changes ----------------------------------------------------------------

    @get("/held", summary="Changes a sync held for review (pending unless status says)")
    async def list_held(
        self,
        call: Call,
        status: FromQuery[HeldChangeStatus | Literal["all"]] = "pending",
        contact_id: FromQuery[str | None] = None,
        connection_id: FromQuery[str | None] = None,
        limit: Limit = 50,
        before: FromQuery[str | None] = None,
    ) -> HeldList:
        items = await HeldChanges(_deps(call), call.scope, call.caller).list(
            status=None if status == "all" else status,
            contact_id=contact_id,
            connection_id=connection_id,
            limit=limit,
            before=before,
        )
        return HeldList(
            items=[_held(h) for h in items],
            next_before=items[-1].id if items and len(items) == limit else None,
        )

    @post(
        "/held/{held_id:str}/confirm",
        summary="Apply a held change (editors); date-relative steps are rescheduled",
        status_code=200,
        responses={409: problem_spec("The change was decided already")},
    )
    async def confirm_held(self, call: Call, held_id: FromPath[str]) -> HeldOut:
        return _held(await HeldChanges(_deps(call), call.scope, call.caller).confirm(held_id))

    @post(
        "/held/{held_id:str}/reject",
        summary="Drop a held change (editors); Aisle keeps its value",
        status_code=200,
        responses={409: problem_spec("The change was decided already")},
    )
    async def reject_held(self, call: Call, held_id: FromPath[str]) -> HeldOut:
        return _held(await HeldChanges(_deps(call), call.scope, call.caller).reject(held_id))

    # -- CSV files -------------------------------------------------------------------

    @post(
        "/connections/{crm_connection_id:str}/csv/{csv_format:str}/preview",
        summary="Preview a CSV import (editors): the first rows mapped, nothing written",
        status_code=200,
        responses=_CSV_BODY,
    )
    async def preview_csv(
        self,
        call: Call,
        request: Request[Any, Any, Any],
        crm_connection_id: FromPath[str],
        csv_format: FromPath[str],
        rows: FromQuery[Annotated[int, Meta(ge=1, le=200)]] = 20,
        columns: FromQuery[str | None] = None,
    ) -> PreviewOut:
        mapping = _columns(columns)
        imports = CSVImports(_deps(call), call.scope, call.caller)
        stream, _ = await _csv_body(request)
        with stream:
            preview = await imports.preview(
                crm_connection_id, csv_format, stream, rows=rows, columns=mapping
            )
        return PreviewOut(preview=preview)

    @post(
        "/connections/{crm_connection_id:str}/csv/{csv_format:str}/import",
        summary="Import a CSV file (editors) as a sync run; answers the finished run",
        status_code=200,
        responses=_CSV_BODY,
    )
    async def import_csv(
        self,
        call: Call,
        request: Request[Any, Any, Any],
        crm_connection_id: FromPath[str],
        csv_format: FromPath[str],
        columns: FromQuery[str | None] = None,
    ) -> SyncRun:
        """The file is read as it arrives (spooled to disk past 1 MiB) and imported in
        pages; ``GET /crm/runs?connection_id=…`` shows the run's progress meanwhile."""
        mapping = _columns(columns)
        imports = CSVImports(_deps(call), call.scope, call.caller)
        stream, size = await _csv_body(request)
        with stream:
            return await imports.run(
                crm_connection_id, csv_format, stream, size=size, columns=mapping
            )

    @get(
        "/connections/{crm_connection_id:str}/csv/{csv_format:str}/export",
        summary="Export the studio's couples as the CRM's CSV file (editors), streamed",
        responses={
            409: problem_spec("The provider exports no CSV files"),
            422: problem_spec(
                "Unknown format, columns not a JSON object, or a column of an unknown field"
            ),
        },
        media_type="text/csv",
    )
    async def export_csv(
        self,
        call: Call,
        crm_connection_id: FromPath[str],
        csv_format: FromPath[str],
        columns: FromQuery[str | None] = None,
        keep_pending: FromQuery[bool] = False,
    ) -> Response[Any]:
        """``keep_pending`` leaves changes queued by ``crm_update`` steps queued (a
        trial export); otherwise a complete export forgets the ones it wrote."""
        exports = CSVExports(_deps(call), call.scope, call.caller)
        export = await exports.open(
            crm_connection_id,
            csv_format,
            columns=_columns(columns),
            consume_pending=not keep_pending,
        )

        async def body() -> AsyncIterator[bytes]:
            async for text in export.chunks():
                yield text.encode()

        return Stream(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
        )
