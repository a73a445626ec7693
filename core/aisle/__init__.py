"""Aisle: journey automation for wedding businesses.

The public plugin API lives here: :data:`hookimpl`, the registration types, and the
contracts node types, trigger types, executors, CRM providers and event sources work
with (defined in :mod:`aisle.contracts`), plus the few services a plugin calls: outbound
HTTP behind the SSRF guard, bounded work, Zapier bridges, address normalization and to-do
due dates. A plugin imports only this module and :mod:`aisle.testing` (its conformance
suites); ``lint-imports`` holds the built-in plugins to that.
"""

from aisle.bounded import BoundExceeded, run_bounded, working_on
from aisle.bridges import (
    CLIENT_AND_PROJECT_HOOKS,
    ZAP_CONTACT_FIELDS,
    BridgeCredentials,
    CatchHook,
    ZapierBridge,
    ZapTrigger,
    sign_delivery,
)
from aisle.builtins.due import Due, due_at
from aisle.contracts.actions import (
    ActionContext,
    ActionError,
    ActionExecutor,
    ActionResult,
    ActionServices,
    CheckConnection,
    CheckContext,
    ConfigProblem,
    CRMAccess,
    OutgoingMessage,
    PermanentError,
    RetryableError,
)
from aisle.contracts.cel import CelExpression
from aisle.contracts.crm import (
    CRM_CAPABILITIES,
    CRMClient,
    CRMProvider,
    CSVFormat,
    ExternalRecord,
    InboundEvent,
    Page,
    RateLimited,
    WebhookRefused,
)
from aisle.contracts.events import EventView
from aisle.contracts.hooks import hookimpl
from aisle.contracts.nodes import (
    ActionRequest,
    Advance,
    Complete,
    EdgeView,
    Fail,
    NodeContext,
    NodeOutcome,
    NodeType,
    Stay,
)
from aisle.contracts.registrations import EmptyConfig, RouteRegistration
from aisle.contracts.sources import SOURCE_CONTACT_FIELDS, EventSource
from aisle.contracts.triggers import (
    ANY_EVENT,
    Fire,
    FireAt,
    NotYet,
    TriggerContext,
    TriggerDecision,
    TriggerType,
)
from aisle.domain.addresses import InvalidAddress, normalize_email, normalize_phone
from aisle.http import DestinationRefused
from aisle.http import client as http_client

__version__ = "0.1.0"

__all__ = [
    "ANY_EVENT",
    "CLIENT_AND_PROJECT_HOOKS",
    "CRM_CAPABILITIES",
    "SOURCE_CONTACT_FIELDS",
    "ZAP_CONTACT_FIELDS",
    "ActionContext",
    "ActionError",
    "ActionExecutor",
    "ActionRequest",
    "ActionResult",
    "ActionServices",
    "Advance",
    "BoundExceeded",
    "BridgeCredentials",
    "CRMAccess",
    "CRMClient",
    "CRMProvider",
    "CSVFormat",
    "CatchHook",
    "CelExpression",
    "CheckConnection",
    "CheckContext",
    "Complete",
    "ConfigProblem",
    "DestinationRefused",
    "Due",
    "EdgeView",
    "EmptyConfig",
    "EventSource",
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
    "WebhookRefused",
    "ZapTrigger",
    "ZapierBridge",
    "due_at",
    "hookimpl",
    "http_client",
    "normalize_email",
    "normalize_phone",
    "run_bounded",
    "sign_delivery",
    "working_on",
]
