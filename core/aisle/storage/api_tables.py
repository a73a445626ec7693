"""The piccolo tables the HTTP API adds: the canvas op log and journey collaborators.

Created by migration ``m0003_api_flow_log``; registered with the database binding at
import so :func:`aisle.storage.database.connect` points them at the same engine.
"""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Text, Timestamptz
from piccolo.table import Table

from aisle.storage.database import register_tables

__all__ = ["FlowOpTable", "JourneyCollaboratorTable"]


class FlowOpTable(Table, tablename="flow_ops"):
    id = Text(primary_key=True)
    organization_id = Text()
    journey_id = Text()
    op_id = Text()
    revision = Integer()
    status = Text()
    kind = Text()
    op = JSON()
    changes = JSON()
    conflict_ids = JSON()
    actor = Text()
    created_at = Timestamptz(default=None)


class JourneyCollaboratorTable(Table, tablename="journey_collaborators"):
    # The real primary key is (journey_id, user_id); piccolo needs one column marked.
    organization_id = Text()
    journey_id = Text(primary_key=True)
    user_id = Text()
    role = Text()
    created_at = Timestamptz(default=None)


register_tables(FlowOpTable, JourneyCollaboratorTable)
