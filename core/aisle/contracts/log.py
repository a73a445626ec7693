"""What the automation log can say: every entry's ``kind``, as one enumeration.

Members are strings (:class:`~enum.StrEnum`), so what is stored and what the API shows
is the dotted name itself (``"step.entered"``); entries written before a kind was
retired still read back, since :class:`~aisle.domain.automation_log.LogEntry` keeps the
stored ``kind`` as text.
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["LogKind"]


@unique
class LogKind(StrEnum):
    """One kind of automation-log entry, named ``<what>.<what happened>``."""

    # An enrollment moving through a journey (the engine).
    ENROLLMENT_STARTED = "enrollment.started"
    STEP_ENTERED = "step.entered"
    STEP_DEAD_END = "step.dead_end"
    EDGE_TAKEN = "edge.taken"
    ACTION_PLANNED = "action.planned"
    WAKE_SCHEDULED = "wake.scheduled"
    WAKE_RESCHEDULED = "wake.rescheduled"
    EXIT_MATCHED = "exit.matched"
    EVENT_IGNORED = "event.ignored"
    CONDITION_ERROR = "condition.error"
    ENROLLMENT_COMPLETED = "enrollment.completed"
    ENROLLMENT_EXITED = "enrollment.exited"
    ENROLLMENT_FAILED = "enrollment.failed"

    # Enrollments moved by people or the runtime.
    ENROLLMENT_MANUAL = "enrollment.manual"
    ENROLLMENT_MIGRATED = "enrollment.migrated"
    ENROLLMENT_RECOMPUTED = "enrollment.recomputed"
    WAKE_DEFERRED = "wake.deferred"

    # Events and contacts.
    EVENT_ERROR = "event.error"
    EVENT_FAILED = "event.failed"
    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_WEDDING_DATE_CHANGED = "contact.wedding_date_changed"
    CONTACT_DATE_FIELD_CHANGED = "contact.date_field_changed"
    CONTACT_DELETED = "contact.deleted"

    # Action runs (the outbox and its workers).
    ACTION_QUEUED = "action.queued"
    ACTION_DEFERRED = "action.deferred"
    ACTION_ATTEMPT = "action.attempt"
    ACTION_DEAD = "action.dead"
    ACTION_LOST = "action.lost"
    ACTION_RETRIED = "action.retried"
    ACTION_CANCELLED = "action.cancelled"
    MESSAGE_CAPTURED = "message.captured"
    TASK_CREATED = "task.created"
    TASK_APPROVED = "task.approved"
    TASK_COMPLETED = "task.completed"

    # Journeys and their canvas.
    JOURNEY_CREATED = "journey.created"
    JOURNEY_UPDATED = "journey.updated"
    JOURNEY_DELETED = "journey.deleted"
    JOURNEY_IMPORTED = "journey.imported"
    JOURNEY_FLOW_REPLACED = "journey.flow_replaced"
    JOURNEY_OPS_APPLIED = "journey.ops_applied"
    JOURNEY_OPS_CONFLICTED = "journey.ops_conflicted"
    JOURNEY_PUBLISHED = "journey.published"
    JOURNEY_ROLLED_BACK = "journey.rolled_back"
    JOURNEY_COLLABORATOR_SET = "journey.collaborator_set"
    JOURNEY_COLLABORATOR_REMOVED = "journey.collaborator_removed"
    LOCK_FORCE_RELEASED = "lock.force_released"
    CONFLICT_RESOLVED = "conflict.resolved"

    # The studio: its people, tokens and settings.
    ORGANIZATION_CREATED = "organization.created"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_PASSWORD_SET = "user.password_set"  # noqa: S105 (a log kind, not a secret)
    TOKEN_CREATED = "token.created"  # noqa: S105 (a log kind, not a secret)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 (a log kind, not a secret)
    SETTINGS_CHANGED = "settings.changed"
    WEBHOOK_ENDPOINT_ENABLED = "webhook.endpoint_enabled"

    # CRM sync (aisle.crm): connections, runs, held changes and inbound webhooks.
    CRM_CONNECTION_CREATED = "crm.connection_created"
    CRM_CONNECTION_UPDATED = "crm.connection_updated"
    CRM_CONNECTION_DELETED = "crm.connection_deleted"
    CRM_CREDENTIALS_ROTATED = "crm.credentials_rotated"
    CRM_SYNC_FINISHED = "crm.sync_finished"
    CRM_SYNC_LOST = "crm.sync_lost"
    CRM_CHANGE_HELD = "crm.change_held"
    CRM_CHANGE_CONFIRMED = "crm.change_confirmed"
    CRM_CHANGE_REJECTED = "crm.change_rejected"
    CRM_WEBHOOK_REFUSED = "crm.webhook_refused"

    # Event sources (aisle_event_sources): deliveries posted to a studio's inbound URL.
    SOURCE_DELIVERY_REFUSED = "source.delivery_refused"
    SOURCE_DELIVERY_REPLAYED = "source.delivery_replayed"
    SOURCE_EVENT_UNMATCHED = "source.event_unmatched"
