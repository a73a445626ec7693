"""CSV import: a CRM's CSV export (its clients, leads or jobs) streamed into contacts.

The file is never loaded: ``csv.reader`` walks a text stream over the bytes and hands
the sync engine (:func:`aisle.crm.sync.pull`) pages of rows, so mapping, validation,
held changes, content hashes and batched writes are the engine's, exactly as for a pull.
A row is a record whose id is its key column; the links the engine keeps per connection
and format make a re-import of the same file all ``unchanged``. Each bad row fails alone
with its spreadsheet row number (the header is row 1). The run is a sync run with
``trigger="csv_import"``: rows seen, total estimated from the bytes read of the file
size, and rate.

Columns come from the provider's :class:`~aisle.contracts.crm.CSVFormat`, overridden
by the connection's ``settings["csv_columns"][<format>]`` and then by the caller; the
date pattern by ``settings["csv_date_formats"][<format>]``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import IO, Any, cast

import msgspec

from aisle.contracts.crm import CRMClient, CRMProvider, CSVFormat, ExternalRecord, Page
from aisle.contracts.log import LogKind
from aisle.crm.deps import CRMDeps
from aisle.crm.mapping import InvalidRecord, MappingError, check_field, extract
from aisle.crm.sync import PullStopped, Tally, pull
from aisle.domain.crm_connection import CRMConnection
from aisle.domain.sync_run import SYNC_COUNTS, SyncRun, SyncRunStatus
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import Actor, ensure_role
from aisle.storage.store import OrgScope

__all__ = [
    "BATCH_ROWS",
    "CSVImports",
    "CSVPreview",
    "PreviewRow",
    "connection_format",
    "csv_format",
    "effective_columns",
    "keyed",
]

BATCH_ROWS = 1000
"""Rows handed to the engine at once (one page: a few multi-row statements)."""

WORKER = "inline"
"""The worker an import runs as: the process that holds the file."""


class PreviewRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row as it would be imported: its Aisle values and what is wrong with it."""

    row: int
    key: str
    values: dict[str, Any]
    errors: list[dict[str, str]]


class CSVPreview(msgspec.Struct, frozen=True, kw_only=True):
    """The first rows of a file mapped, nothing written. ``missing_columns`` are mapped
    columns the file lacks (their fields are left alone on import)."""

    format: str
    headers: list[str]
    columns: dict[str, str]
    missing_columns: list[str]
    rows: list[PreviewRow]


def _refused(field: str, message: str, status: int = 422) -> Refused:
    return Refused(status, f"{field}: {message}", errors=[FieldError(message=message, field=field)])


def csv_format(provider: CRMProvider, name: str) -> CSVFormat:
    """:raises Refused: 422 naming ``format`` when the provider has no such file."""
    found = provider.csv_formats.get(name)
    if found is None:
        known = ", ".join(provider.csv_formats) or "none"
        raise _refused("format", f"the {provider.name} provider has no {name!r} CSV (has {known})")
    return found


def connection_format(provider: CRMProvider, connection: CRMConnection, name: str) -> CSVFormat:
    """The provider's ``name`` format with the connection's date pattern, if it set one."""
    fmt = csv_format(provider, name)
    date_format = (connection.settings.get("csv_date_formats") or {}).get(fmt.name)
    return msgspec.structs.replace(fmt, date_format=str(date_format)) if date_format else fmt


def effective_columns(
    fmt: CSVFormat, connection: CRMConnection, override: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Aisle field → column header: the format's, the connection's, then ``override``
    (an empty header drops a field). :raises Refused: naming a field Aisle lacks."""
    saved = (connection.settings.get("csv_columns") or {}).get(fmt.name) or {}
    merged = {**fmt.columns, **saved, **(override or {})}
    for aisle_field in merged:
        try:
            check_field(aisle_field)
        except MappingError as exc:
            raise _refused(f"columns.{aisle_field}", str(exc).partition(": ")[2]) from None
    return {field: header for field, header in merged.items() if header}


def keyed(fmt: CSVFormat, columns: Mapping[str, str]) -> CSVFormat:
    """``fmt`` with its key following the column its field was moved to.

    :raises Refused: naming the key's field when ``columns`` drops it.
    """
    field = next((f for f, header in fmt.columns.items() if header == fmt.key), None)
    if field is None:
        return fmt
    if field not in columns:
        raise _refused(f"columns.{field}", f"is the key of {fmt.name} files; it cannot be dropped")
    return msgspec.structs.replace(fmt, key=columns[field])


class _CountingReader(io.RawIOBase):
    """The bytes read so far, for a progress estimate against the file size."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


class _Rows:
    """The file's header and data rows as ``(row number, {header: cell})``."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.counter = _CountingReader(stream)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self.counter), encoding="utf-8-sig", newline=""
        )
        self._reader = csv.reader(self._text)
        self.row = 1
        try:
            self.headers = [h.strip() for h in next(self._reader, [])]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _refused("file", f"not a UTF-8 CSV file: {exc}") from None
        if not self.headers:
            raise _refused("file", "the file is empty (no header row)")

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        headers = self.headers
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise ValueError(
                    f"row {self.row + 1}: the file is not readable CSV: {exc}"
                ) from None
            self.row += 1
            if not any(cells):
                continue
            yield self.row, dict(zip(headers, cells, strict=False))


def _date_cell(text: str, date_format: str) -> str:
    """A date cell as ISO text (the format's pattern first, then ISO itself)."""
    text = text.strip()
    if not text:
        return text
    for pattern in (date_format, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise InvalidRecord("wedding_date", f"{text!r} is not a date ({date_format})")


class _RowTally(Tally):
    """A tally whose failures carry the spreadsheet row of the record (the current page's)."""

    rows: dict[str, int]

    def __init__(self, counts: dict[str, int], errors: list[dict[str, Any]]) -> None:
        super().__init__(counts=counts, errors=errors)
        self.rows = {}

    def fail(self, kind: str, external_id: str, reason: str, field: str | None = None) -> None:
        before = len(self.errors)
        super().fail(kind, external_id, reason, field)
        if len(self.errors) > before and external_id in self.rows:
            self.errors[-1]["row"] = self.rows[external_id]


class _CSVSource:
    """The file as a :class:`~aisle.contracts.crm.CRMClient` the engine pulls pages from.

    A page never holds two rows with the same key: a repeat starts the next page, as a
    record's failure is reported with its row, found by its key within the page. (Rows
    sharing an email are the engine's to merge, within a page as across pages.)
    """

    def __init__(
        self,
        rows: _Rows,
        fmt: CSVFormat,
        columns: Mapping[str, str],
        tally: _RowTally,
        batch: int,
    ) -> None:
        self.rows = rows
        self.fmt = fmt
        self.tally = tally
        self.batch = batch
        self.seen = 0
        self.done = False
        self._iter = iter(rows)
        self._carried: tuple[int, dict[str, str]] | None = None
        self._dates = [h for f, h in columns.items() if f == "wedding_date"]
        self._wanted = {*columns.values(), fmt.key}

    def _next(self) -> tuple[int, dict[str, str]] | None:
        if self._carried is not None:
            carried, self._carried = self._carried, None
            return carried
        return next(self._iter, None)

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        records: list[ExternalRecord] = []
        keys: set[str] = set()
        self.tally.rows = {}
        while len(records) < self.batch:
            item = self._next()
            if item is None:
                self.done = True
                return Page(records=records, next_cursor=None)
            number, cells = item
            key = (cells.get(self.fmt.key) or "").strip()
            if key in keys:
                self._carried = item
                break
            self.seen += 1
            if not key:
                self._fail(number, key, self.fmt.key, "the key column is empty")
                continue
            try:
                fields = {h: cells.get(h, "") for h in self._wanted}
                for header in self._dates:
                    if header in fields:
                        fields[header] = _date_cell(fields[header], self.fmt.date_format)
            except InvalidRecord as exc:
                self._fail(number, key, exc.field, exc.reason)
                continue
            keys.add(key)
            self.tally.rows[key] = number
            records.append(ExternalRecord(id=key, kind=kind, fields=fields))
        return Page(records=records, next_cursor="more")

    def _fail(self, row: int, key: str, field: str | None, reason: str) -> None:
        self.tally.add("failed")
        if len(self.tally.errors) < 1000:
            self.tally.errors.append(
                {
                    "kind": self.fmt.name,
                    "external_id": key,
                    "field": field,
                    "reason": reason,
                    "row": row,
                }
            )


class CSVImports:
    """Previews and imports of a connection's CSV files, as ``actor`` (editors)."""

    def __init__(self, deps: CRMDeps, scope: OrgScope, actor: Actor) -> None:
        self.deps = deps
        self.scope = scope
        self.actor = actor

    async def _target(
        self, connection_id: str, format_name: str
    ) -> tuple[CRMConnection, CRMProvider, CSVFormat]:
        connection = await self.scope.crm_connections.get(connection_id)
        provider = self.deps.provider(connection.provider)
        if "csv_import" not in provider.capabilities:
            raise Refused(409, f"the {provider.name} provider does not import CSV files")
        if connection.direction == "push":
            raise Refused(409, f"connection {connection.name!r} only pushes")
        return connection, provider, connection_format(provider, connection, format_name)

    async def save_columns(
        self, connection_id: str, format_name: str, columns: Mapping[str, str]
    ) -> CRMConnection:
        """Keep ``columns`` as the connection's mapping of ``format_name`` files (admins)."""
        ensure_role(self.actor, "admin", "changing a CRM connection's CSV columns")
        connection, _, fmt = await self._target(connection_id, format_name)
        saved = dict(connection.settings.get("csv_columns") or {})
        saved[fmt.name] = dict(columns)
        settings = {**connection.settings, "csv_columns": saved}
        keyed(fmt, effective_columns(fmt, msgspec.structs.replace(connection, settings=settings)))
        async with self.deps.store.transaction():
            updated = await self.scope.crm_connections.update(connection_id, settings=settings)
            await self.scope.log.append(
                LogKind.CRM_CONNECTION_UPDATED,
                actor=self.actor.actor,
                message=f"{connection.provider} connection {connection.name!r}: "
                f"CSV columns of {fmt.name} files changed",
                data={"connection_id": connection_id, "fields": ["csv_columns"]},
            )
        return updated

    async def preview(
        self,
        connection_id: str,
        format_name: str,
        stream: IO[bytes],
        *,
        rows: int = 20,
        columns: Mapping[str, str] | None = None,
    ) -> CSVPreview:
        """The first ``rows`` rows mapped and checked; nothing is written."""
        ensure_role(self.actor, "editor", "previewing a CSV import")
        connection, _, fmt = await self._target(connection_id, format_name)
        mapping = effective_columns(fmt, connection, columns)
        fmt = keyed(fmt, mapping)
        reader = _Rows(stream)
        _require_key(reader.headers, fmt)
        region = await self.deps.phone_region(self.scope.org_id)
        shown: list[PreviewRow] = []
        try:
            for number, cells in reader:
                shown.append(_preview_row(number, cells, fmt, mapping, region))
                if len(shown) >= rows:
                    break
        except ValueError as exc:
            raise _refused("file", str(exc)) from None
        return CSVPreview(
            format=fmt.name,
            headers=reader.headers,
            columns=mapping,
            missing_columns=sorted(set(mapping.values()) - set(reader.headers)),
            rows=shown,
        )

    async def run(
        self,
        connection_id: str,
        format_name: str,
        stream: IO[bytes],
        *,
        size: int | None = None,
        columns: Mapping[str, str] | None = None,
        batch: int = BATCH_ROWS,
    ) -> SyncRun:
        """Import the file as a sync run of the connection and return the finished run.

        ``size`` (the file's bytes, when known) lets progress estimate the total rows.
        :raises Refused: 409 while another run of the connection is queued or running.
        """
        ensure_role(self.actor, "editor", "importing a CSV file")
        connection, provider, fmt = await self._target(connection_id, format_name)
        mapping = effective_columns(fmt, connection, columns)
        fmt = keyed(fmt, mapping)
        reader = _Rows(stream)
        _require_key(reader.headers, fmt)
        active = await self.scope.sync_runs.active(connection_id)
        if active is not None:
            raise Refused(
                409, f"connection {connection.name!r} has a {active.status} run ({active.id})"
            )
        run = await self.scope.sync_runs.start(connection_id, trigger="csv_import")
        tally = _RowTally(counts=dict.fromkeys(SYNC_COUNTS, 0), errors=[])
        source = _CSVSource(reader, fmt, mapping, tally, max(1, batch))
        started = time.monotonic()

        async def progress(phase: str, _seen: int, _total: int | None, _resume: Any) -> None:
            seen = source.seen
            spent = time.monotonic() - started
            read = reader.counter.count
            total = max(seen, round(seen * size / read)) if size and read else None
            kept = await self.scope.sync_runs.progress(
                run.id,
                worker=WORKER,
                phase=phase,
                seen=seen,
                total=seen if source.done else total,
                rate=round(seen / spent, 1) if spent > 0 else None,
                counts=tally.counts,
                errors=tally.errors,
                resume=None,
            )
            if not kept:
                current = await self.scope.sync_runs.get(run.id)
                raise PullStopped(cancelled=current.cancel_requested)

        status: SyncRunStatus
        # The engine writes this format's rows as its only kind; a format other than
        # the first keeps its keys apart from the couple's id in the CRM.
        first = next(iter(provider.csv_formats))
        as_provider = dataclasses.replace(
            provider,
            name=provider.name if fmt.name == first else f"{provider.name}_{fmt.name}",
            pull_kinds=(fmt.name,),
        )
        as_connection = msgspec.structs.replace(connection, field_mapping=mapping, cursor=None)
        try:
            await pull(
                self.deps,
                self.scope,
                as_connection,
                as_provider,
                # The engine only lists from it: the file has nothing to fetch or push.
                cast(CRMClient, source),
                tally=tally,
                progress=progress,
                run_id=run.id,
            )
            status = "partial" if tally.counts.get("failed") else "succeeded"
        except PullStopped as stopped:
            status = "cancelled" if stopped.cancelled else "failed"
        except ValueError as exc:
            status = "failed"
            tally.errors.append({"reason": str(exc)[:500]})
        return await self._finish(run, connection, fmt, status, tally)

    async def _finish(
        self,
        run: SyncRun,
        connection: CRMConnection,
        fmt: CSVFormat,
        status: SyncRunStatus,
        tally: Tally,
    ) -> SyncRun:
        now = self.deps.store.clock.now()
        last_error = next((e["reason"] for e in reversed(tally.errors) if "kind" not in e), "")
        async with self.deps.store.transaction():
            finished = await self.scope.sync_runs.finish(
                run.id, status=status, counts=tally.counts, errors=tally.errors, worker=WORKER
            )
            await self.scope.crm_connections.update(
                connection.id,
                status=status,
                last_error=last_error if status == "failed" else "",
                last_sync_at=now,
            )
            counts = ", ".join(f"{n} {k}" for k, n in tally.counts.items())
            await self.scope.log.append(
                LogKind.CRM_SYNC_FINISHED,
                actor=self.actor.actor,
                message=f"{connection.provider} CSV import of {fmt.name} into "
                f"{connection.name!r} {status}: {counts}",
                data={"connection_id": connection.id, "run_id": run.id, "counts": tally.counts},
            )
        return finished or await self.scope.sync_runs.get(run.id)


def _require_key(headers: list[str], fmt: CSVFormat) -> None:
    if fmt.key not in headers:
        shown = ", ".join(headers[:20])
        raise _refused(
            f"columns.{fmt.key}",
            f"the file has no {fmt.key!r} column, which identifies {fmt.name} rows "
            f"(its columns: {shown})",
        )


def _preview_row(
    number: int,
    cells: Mapping[str, str],
    fmt: CSVFormat,
    mapping: Mapping[str, str],
    region: str | None,
) -> PreviewRow:
    values: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    key = (cells.get(fmt.key) or "").strip()
    if not key:
        errors.append({"field": fmt.key, "reason": "the key column is empty"})
    for aisle_field, header in mapping.items():
        if header not in cells:
            continue
        raw = cells[header]
        try:
            if aisle_field == "wedding_date":
                raw = _date_cell(raw, fmt.date_format)
            values.update(extract({header: raw}, {aisle_field: header}, region))
        except InvalidRecord as exc:
            errors.append({"field": exc.field, "reason": exc.reason})
    return PreviewRow(row=number, key=key, values=values, errors=errors)
