"""Aisle: journey automation for wedding businesses.

The public plugin API lives here: :data:`hookimpl`, the registration types, and the
contracts node types, trigger types, executors and CRM providers work with. Test
suites for plugin authors live in :mod:`aisle.testing`.
"""

from aisle.bounded import BoundExceeded, run_bounded, working_on
from aisle.crm.contracts import CRMClient, ExternalRecord, InboundEvent, Page, RateLimited
from aisle.domain.addresses import InvalidAddress, normalize_email, normalize_phone
from aisle.engine.contracts import (
    ActionRequest,
    Advance,
    Complete,
    EdgeView,
    EventView,
    Fail,
    Fire,
    FireAt,
    NodeContext,
    NodeOutcome,
    NotYet,
    Stay,
    TriggerContext,
    TriggerDecision,
)
from aisle.jobs.contracts import (
    ActionContext,
    ActionError,
    ActionResult,
    ActionServices,
    CheckContext,
    ConfigProblem,
    OutgoingMessage,
    PermanentError,
    RetryableError,
)
from aisle.plugins.hookspecs import hookimpl
from aisle.plugins.registrations import (
    ActionExecutor,
    CRMProvider,
    EmptyConfig,
    NodeType,
    RouteRegistration,
    TriggerType,
)

__version__ = "0.1.0"

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionExecutor",
    "ActionRequest",
    "ActionResult",
    "ActionServices",
    "Advance",
    "BoundExceeded",
    "CRMClient",
    "CRMProvider",
    "CheckContext",
    "Complete",
    "ConfigProblem",
    "EdgeView",
    "EmptyConfig",
    "EventView",
    "ExternalRecord",
    "Fail",
    "Fire",
    "FireAt",
    "InboundEvent",
    "InvalidAddress",
    "NodeContext",
    "NodeOutcome",
    "NodeType",
    "NotYet",
    "OutgoingMessage",
    "Page",
    "PermanentError",
    "RateLimited",
    "RetryableError",
    "RouteRegistration",
    "Stay",
    "TriggerContext",
    "TriggerDecision",
    "TriggerType",
    "hookimpl",
    "normalize_email",
    "normalize_phone",
    "run_bounded",
    "working_on",
]
