"""The piccolo tables: one class per table created by the migrations.

The DDL lives in :mod:`aisle.storage.migrations` (explicit, per dialect); these classes
only describe the columns so piccolo can build queries. Code outside
:mod:`aisle.storage` never queries them directly: it goes through the org-scoped
repositories, which add the organization filter to every statement.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    Integer,
    Text,
    Timestamptz,
)
from piccolo.table import Table

__all__ = [
    "ORG_TABLES",
    "TABLES",
    "ActionRunTable",
    "ApiTokenTable",
    "AutomationLogTable",
    "CRMConnectionTable",
    "ConflictTable",
    "ContactExternalIdTable",
    "ContactTable",
    "EnrollmentTable",
    "EventTable",
    "JourneyTable",
    "JourneyVersionTable",
    "OrganizationTable",
    "PresenceSessionTable",
    "SyncRunTable",
    "TaskTable",
    "UserTable",
]


def _ts(null: bool = True) -> Timestamptz:
    # No column defaults: the data-access layer always passes the clock's time, so a
    # test clock governs every stored timestamp.
    return Timestamptz(default=None, null=null)


class OrganizationTable(Table, tablename="organizations"):
    id = Text(primary_key=True)
    slug = Text()
    name = Text()
    timezone = Text(default="UTC")
    settings = JSON()
    created_at = _ts(False)


class UserTable(Table, tablename="users"):
    id = Text(primary_key=True)
    organization_id = Text()
    email = Text()
    name = Text()
    role = Text()
    password_hash = Text(null=True, default=None)
    created_at = _ts(False)
    disabled_at = _ts()


class ApiTokenTable(Table, tablename="api_tokens"):
    id = Text(primary_key=True)
    organization_id = Text()
    user_id = Text(null=True, default=None)
    name = Text()
    role = Text()
    prefix = Text()
    token_hash = Text()
    created_at = _ts(False)
    last_used_at = _ts()
    expires_at = _ts()
    revoked_at = _ts()


class ContactTable(Table, tablename="contacts"):
    id = Text(primary_key=True)
    organization_id = Text()
    email = Text(null=True, default=None)
    phone = Text(null=True, default=None)
    partners = JSON()
    wedding_date = Date(null=True, default=None)
    venue = Text(null=True, default=None)
    timezone = Text(null=True, default=None)
    custom = JSON()
    external_ids = JSON()
    search_text = Text()
    created_at = _ts(False)
    updated_at = _ts(False)
    deleted_at = _ts()


class ContactExternalIdTable(Table, tablename="contact_external_ids"):
    # The real primary key is (organization_id, provider, external_id); piccolo needs
    # one column marked, and queries here never rely on it.
    organization_id = Text()
    contact_id = Text(primary_key=True)
    provider = Text()
    external_id = Text()


class JourneyTable(Table, tablename="journeys"):
    id = Text(primary_key=True)
    organization_id = Text()
    name = Text()
    description = Text()
    status = Text()
    draft = JSON()
    revision = Integer()
    live_version = Integer(null=True, default=None)
    created_at = _ts(False)
    updated_at = _ts(False)
    deleted_at = _ts()


class JourneyVersionTable(Table, tablename="journey_versions"):
    id = Text(primary_key=True)
    organization_id = Text()
    journey_id = Text()
    version = Integer()
    graph = JSON()
    published_at = _ts(False)
    published_by = Text(null=True, default=None)
    note = Text()
    source_version = Integer(null=True, default=None)


class EnrollmentTable(Table, tablename="enrollments"):
    id = Text(primary_key=True)
    organization_id = Text()
    contact_id = Text()
    journey_id = Text()
    version = Integer()
    status = Text()
    step_id = Text(null=True, default=None)
    entered_at = _ts()
    visit = Integer()
    wake_at = _ts()
    variables = JSON()
    outcome = Text(null=True, default=None)
    error = Text(null=True, default=None)
    created_at = _ts(False)
    updated_at = _ts(False)
    rescheduled_at = _ts()


class EventTable(Table, tablename="events"):
    id = Text(primary_key=True)
    organization_id = Text()
    contact_id = Text(null=True, default=None)
    type = Text()
    payload = JSON()
    idempotency_key = Text()
    occurred_at = _ts(False)
    received_at = _ts(False)
    status = Text()
    source = Text()
    processed_at = _ts()
    attempts = Integer()
    error = Text(null=True, default=None)


class ActionRunTable(Table, tablename="action_runs"):
    id = Text(primary_key=True)
    organization_id = Text()
    executor = Text()
    config = JSON()
    idempotency_key = Text()
    status = Text()
    attempts = Integer()
    max_attempts = Integer()
    next_attempt_at = _ts()
    dispatched_at = _ts()
    contact_id = Text(null=True, default=None)
    enrollment_id = Text(null=True, default=None)
    journey_id = Text(null=True, default=None)
    journey_version = Integer(null=True, default=None)
    step_id = Text(null=True, default=None)
    result = JSON(null=True, default=None)
    last_error = Text(null=True, default=None)
    claimed_by = Text(null=True, default=None)
    claimed_at = _ts()
    lease_expires_at = _ts()
    created_at = _ts(False)
    updated_at = _ts(False)
    finished_at = _ts()


class TaskTable(Table, tablename="tasks"):
    id = Text(primary_key=True)
    organization_id = Text()
    title = Text()
    assignee = Text()
    status = Text()
    contact_id = Text(null=True, default=None)
    enrollment_id = Text(null=True, default=None)
    action_run_id = Text(null=True, default=None)
    step_id = Text(null=True, default=None)
    due_at = _ts()
    required_approvals = Integer()
    approvals = JSON()
    details = JSON()
    idempotency_key = Text(null=True, default=None)
    created_at = _ts(False)
    completed_at = _ts()


class AutomationLogTable(Table, tablename="automation_log"):
    id = Text(primary_key=True)
    organization_id = Text()
    at = _ts(False)
    kind = Text()
    message = Text()
    actor = Text()
    contact_id = Text(null=True, default=None)
    enrollment_id = Text(null=True, default=None)
    journey_id = Text(null=True, default=None)
    journey_version = Integer(null=True, default=None)
    step_id = Text(null=True, default=None)
    edge_id = Text(null=True, default=None)
    action_run_id = Text(null=True, default=None)
    event_id = Text(null=True, default=None)
    data = JSON()


class PresenceSessionTable(Table, tablename="presence_sessions"):
    id = Text(primary_key=True)
    organization_id = Text()
    journey_id = Text()
    user_id = Text()
    display_name = Text()
    color = Text()
    cursor = JSON(null=True, default=None)
    viewport = JSON(null=True, default=None)
    selection = JSON()
    joined_at = _ts(False)
    last_seen_at = _ts(False)


class ConflictTable(Table, tablename="conflicts"):
    id = Text(primary_key=True)
    organization_id = Text()
    kind = Text()
    field = Text()
    ours = JSON(null=True, default=None)
    theirs = JSON(null=True, default=None)
    base = JSON(null=True, default=None)
    journey_id = Text(null=True, default=None)
    contact_id = Text(null=True, default=None)
    target = Text(null=True, default=None)
    status = Text()
    detail = JSON()
    created_at = _ts(False)
    resolved_at = _ts()
    resolved_by = Text(null=True, default=None)
    resolution = JSON(null=True, default=None)


class CRMConnectionTable(Table, tablename="crm_connections"):
    id = Text(primary_key=True)
    organization_id = Text()
    provider = Text()
    name = Text()
    direction = Text()
    credentials = Text()
    field_mapping = JSON()
    settings = JSON()
    schedule_seconds = Integer(null=True, default=None)
    cursor = Text(null=True, default=None)
    enabled = Boolean()
    status = Text()
    last_error = Text(null=True, default=None)
    last_sync_at = _ts()
    next_sync_at = _ts()
    created_at = _ts(False)
    updated_at = _ts(False)


class SyncRunTable(Table, tablename="sync_runs"):
    id = Text(primary_key=True)
    organization_id = Text()
    connection_id = Text()
    trigger = Text()
    status = Text()
    started_at = _ts(False)
    finished_at = _ts()
    duration_ms = Integer(null=True, default=None)
    counts = JSON()
    errors = JSON()
    cursor_before = Text(null=True, default=None)
    cursor_after = Text(null=True, default=None)
    phase = Text()
    seen = Integer()
    total = Integer(null=True, default=None)
    rate = DoublePrecision(null=True, default=None)
    heartbeat_at = _ts()
    worker = Text(null=True, default=None)
    attempts = Integer()
    cancel_requested = Boolean()
    resume = JSON(null=True, default=None)
    dispatched_at = _ts()


ORG_TABLES: tuple[type[Table], ...] = (
    UserTable,
    ApiTokenTable,
    ContactTable,
    ContactExternalIdTable,
    JourneyTable,
    JourneyVersionTable,
    EnrollmentTable,
    EventTable,
    ActionRunTable,
    TaskTable,
    AutomationLogTable,
    PresenceSessionTable,
    ConflictTable,
    CRMConnectionTable,
    SyncRunTable,
)
"""Every table whose rows belong to an organization, parents before children."""

TABLES: tuple[type[Table], ...] = (OrganizationTable, *ORG_TABLES)
"""Every table, parents before children (truncate in reverse)."""
