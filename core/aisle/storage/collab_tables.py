"""The piccolo tables of collaboration: lock leases and per-target fencing counters.

Created by migration ``m0002_collaboration``; registered with the database binding at
import so :func:`aisle.storage.database.connect` points them at the same engine.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Text, Timestamptz
from piccolo.table import Table

from aisle.storage.database import register_tables

__all__ = ["CollabFenceTable", "CollabLockTable"]


class CollabFenceTable(Table, tablename="collab_fences"):
    # The real primary key is (journey_id, target_kind, target_id); piccolo needs one
    # column marked, and the queries here never rely on it.
    organization_id = Text()
    journey_id = Text(primary_key=True)
    target_kind = Text()
    target_id = Text()
    last_token = BigInt()


class CollabLockTable(Table, tablename="collab_locks"):
    id = Text(primary_key=True)
    organization_id = Text()
    journey_id = Text()
    target_kind = Text()
    target_id = Text()
    mode = Text()
    holder = Text()
    holder_name = Text()
    session_id = Text(null=True, default=None)
    fencing_token = BigInt()
    acquired_at = Timestamptz(default=None)
    renewed_at = Timestamptz(default=None)
    expires_at = Timestamptz(default=None)


register_tables(CollabFenceTable, CollabLockTable)
