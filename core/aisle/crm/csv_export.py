"""CSV export: the studio's couples written as a CRM's CSV file, streamed page by page.

Each couple is one row of the format's columns (the connection's and the caller's
overrides applied, as for an import). Changes ``crm_update`` steps queued for a
connection whose provider takes CSV files instead of pushes go into the next export:
the executor keeps them in its memory under ``csv-export:<connection id>:<contact
id>`` (``{"fields": {aisle field or column: value}}``); an export that ran to its end
forgets the ones it wrote, unless they changed meanwhile.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

from aisle.contracts.crm import CSVFormat
from aisle.contracts.log import LogKind
from aisle.crm.csv_import import connection_format, effective_columns
from aisle.crm.deps import CRMDeps
from aisle.crm.mapping import contact_value
from aisle.domain.contact import Contact
from aisle.domain.crm_connection import CRMConnection
from aisle.services.errors import Refused
from aisle.services.roles import Actor, ensure_role
from aisle.storage.store import OrgScope

__all__ = ["PAGE_ROWS", "PENDING_EXECUTOR", "CSVExport", "CSVExports", "pending_key"]

PAGE_ROWS = 1000
"""Couples read (and rows written out) at once."""

PENDING_EXECUTOR = "crm_update"
"""The executor whose memory holds changes queued for the next export."""


def pending_key(connection_id: str, contact_id: str = "") -> str:
    """Where ``crm_update`` queues a couple's change for ``connection_id``'s next export
    (without ``contact_id``: the prefix of them all)."""
    return f"csv-export:{connection_id}:{contact_id}"


class CSVExport:
    """One export, checked and ready: :meth:`chunks` streams the file's text."""

    def __init__(
        self,
        deps: CRMDeps,
        scope: OrgScope,
        actor: Actor,
        connection: CRMConnection,
        fmt: CSVFormat,
        columns: Mapping[str, str],
        *,
        consume: bool,
    ) -> None:
        self.deps = deps
        self.scope = scope
        self.actor = actor
        self.connection = connection
        self.format = fmt
        self.columns = dict(columns)
        self.consume = consume
        self.rows = 0
        self.pending_written = 0
        self.filename = f"{connection.provider}-{fmt.name}.csv"

    async def chunks(self) -> AsyncIterator[str]:
        """The header, then a chunk of rows per page of couples (oldest first)."""
        memory = self.scope.executor_memory
        prefix = pending_key(self.connection.id)
        pending = {
            key.removeprefix(prefix): value
            for key, value, _ in await memory.entries(PENDING_EXECUTOR, prefix)
        }
        headers = list(self.columns.values())
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        yield _take(buffer)
        written: list[tuple[str, Mapping[str, Any]]] = []
        after: str | None = None
        while True:
            page = await self.scope.contacts.list(limit=PAGE_ROWS, after=after)
            if not page:
                break
            for contact in page:
                queued = pending.get(contact.id)
                fields = dict(queued.get("fields") or {}) if queued else {}
                writer.writerow(self._row(contact, fields))
                if queued is not None:
                    written.append((contact.id, queued))
            self.rows += len(page)
            after = page[-1].id
            yield _take(buffer)
        self.pending_written = len(written)
        if self.consume:
            for contact_id, value in written:
                key = pending_key(self.connection.id, contact_id)
                # A change queued while the file was written waits for the next export.
                if await memory.recall(PENDING_EXECUTOR, key) == value:
                    await memory.remember(PENDING_EXECUTOR, key, None)
        await self.scope.log.append(
            LogKind.CRM_SYNC_FINISHED,
            actor=self.actor.actor,
            message=f"{self.connection.provider} CSV export of {self.format.name} from "
            f"{self.connection.name!r}: {self.rows} row(s), {self.pending_written} with "
            "changes queued by crm_update steps",
            data={
                "connection_id": self.connection.id,
                "export": self.format.name,
                "rows": self.rows,
                "pending": self.pending_written,
            },
        )

    def _row(self, contact: Contact, queued: Mapping[str, Any]) -> list[str]:
        cells = []
        for field, header in self.columns.items():
            if field in queued:
                value = queued[field]
            elif header in queued:
                value = queued[header]
            else:
                value = contact_value(contact, field)
            cells.append(self._cell(field, value))
        return cells

    def _cell(self, field: str, value: Any) -> str:
        if value is None:
            return ""
        if field == "wedding_date":
            try:
                return date.fromisoformat(str(value)[:10]).strftime(self.format.date_format)
            except ValueError:
                return str(value)
        return str(value)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


class CSVExports:
    """Exports of a connection's CSV files, as ``actor`` (editors)."""

    def __init__(self, deps: CRMDeps, scope: OrgScope, actor: Actor) -> None:
        self.deps = deps
        self.scope = scope
        self.actor = actor

    async def open(
        self,
        connection_id: str,
        format_name: str,
        *,
        columns: Mapping[str, str] | None = None,
        consume_pending: bool = True,
    ) -> CSVExport:
        """An export of ``format_name`` checked (role, capability, format, columns) before
        a byte is written; ``consume_pending=False`` leaves queued changes queued."""
        ensure_role(self.actor, "editor", "exporting a CSV file")
        connection = await self.scope.crm_connections.get(connection_id)
        provider = self.deps.provider(connection.provider)
        if "csv_export" not in provider.capabilities:
            raise Refused(409, f"the {provider.name} provider does not export CSV files")
        fmt = connection_format(provider, connection, format_name)
        return CSVExport(
            self.deps,
            self.scope,
            self.actor,
            connection,
            fmt,
            effective_columns(fmt, connection, columns),
            consume=consume_pending,
        )
