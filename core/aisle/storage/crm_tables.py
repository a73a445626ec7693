"""Tables of the CRM sync kept outside :mod:`aisle.storage.tables`: links and held changes."""

from __future__ import annotations

from piccolo.columns import JSON, Text, Timestamptz
from piccolo.table import Table

from aisle.storage.database import register_tables

__all__ = ["CRMHeldChangeTable", "CRMLinkTable"]


class CRMLinkTable(Table, tablename="crm_links"):
    # The real primary key is (connection_id, kind, external_id); piccolo needs one
    # column marked, and queries here never rely on it.
    organization_id = Text()
    connection_id = Text()
    kind = Text()
    external_id = Text(primary_key=True)
    contact_id = Text(null=True, default=None)
    content_hash = Text()
    synced_at = Timestamptz(default=None)


class CRMHeldChangeTable(Table, tablename="crm_held_changes"):
    id = Text(primary_key=True)
    organization_id = Text()
    connection_id = Text()
    run_id = Text(null=True, default=None)
    contact_id = Text()
    field = Text()
    old_value = JSON(null=True, default=None)
    new_value = JSON(null=True, default=None)
    reason = Text()
    status = Text()
    created_at = Timestamptz(default=None)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Text(null=True, default=None)


register_tables(CRMLinkTable, CRMHeldChangeTable)
