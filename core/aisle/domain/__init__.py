"""Aisle's domain as msgspec structs: the shapes the engine, storage and API share."""

from aisle.domain.action_run import ActionRun, ActionRunStatus
from aisle.domain.api_token import ApiToken
from aisle.domain.automation_log import LogEntry
from aisle.domain.conflict import ConflictRecord
from aisle.domain.contact import Contact, Partner
from aisle.domain.crm_connection import CRMConnection
from aisle.domain.enrollment import EnrollmentState, EnrollmentStatus
from aisle.domain.enrollment_record import Enrollment
from aisle.domain.event import EVENT_TYPES, Event
from aisle.domain.event_record import EventRecord
from aisle.domain.journey import (
    Edge,
    EntryCriteria,
    ExitCriteria,
    Graph,
    JourneySettings,
    Position,
    ReenrollmentPolicy,
    Step,
    Viewport,
)
from aisle.domain.journey_record import Journey, JourneyVersion
from aisle.domain.organization import Organization
from aisle.domain.presence import PresenceSession
from aisle.domain.sync_run import SyncRun
from aisle.domain.task import Approval, Task
from aisle.domain.user import ROLES, Role, User

__all__ = [
    "EVENT_TYPES",
    "ROLES",
    "ActionRun",
    "ActionRunStatus",
    "ApiToken",
    "Approval",
    "CRMConnection",
    "ConflictRecord",
    "Contact",
    "Edge",
    "Enrollment",
    "EnrollmentState",
    "EnrollmentStatus",
    "EntryCriteria",
    "Event",
    "EventRecord",
    "ExitCriteria",
    "Graph",
    "Journey",
    "JourneySettings",
    "JourneyVersion",
    "LogEntry",
    "Organization",
    "Partner",
    "Position",
    "PresenceSession",
    "ReenrollmentPolicy",
    "Role",
    "Step",
    "SyncRun",
    "Task",
    "User",
    "Viewport",
]
