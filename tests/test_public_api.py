"""The plugin API is what ``aisle`` exports: a name added or dropped is a decision, made
here on purpose (and in docs/plugin-guide.md), never a side effect of a refactor."""

from __future__ import annotations

import importlib
import pkgutil

import aisle
import aisle.contracts

PUBLIC_API = [
    "ANY_EVENT",
    "ActionContext",
    "ActionError",
    "ActionExecutor",
    "ActionRequest",
    "ActionResult",
    "ActionServices",
    "Advance",
    "BoundExceeded",
    "BridgeCredentials",
    "CLIENT_AND_PROJECT_HOOKS",
    "CRMAccess",
    "CRMClient",
    "CRMProvider",
    "CRM_CAPABILITIES",
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
    "SOURCE_CONTACT_FIELDS",
    "Stay",
    "TriggerContext",
    "TriggerDecision",
    "TriggerType",
    "WebhookRefused",
    "ZAP_CONTACT_FIELDS",
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


def test_the_public_api_is_exactly_this_list() -> None:
    assert sorted(aisle.__all__) == PUBLIC_API


def test_every_exported_name_resolves() -> None:
    missing = [name for name in aisle.__all__ if not hasattr(aisle, name)]
    assert not missing, f"aisle.__all__ names what aisle does not define: {missing}"


def test_the_contracts_plugins_touch_are_all_exported() -> None:
    # What aisle.contracts declares is the plugin API, except the core's own bookkeeping.
    internal = {"AisleSpecs", "HOOKS", "PROJECT_NAME", "hook_for", "hookspec", "Registration"}
    internal |= {"PluginInfo", "PluginLoadError", "Registry", "CEL_MARKER", "CAPTURE_MODES"}
    internal |= {"ConditionEvaluator", "captures"}
    # The vocabulary of the core's own records: plugins never write log entries or set
    # run statuses (an executor returns a result or raises).
    internal |= {"LogKind", "ActionRunStatus", "FINISHED_RUN_STATUSES"}
    declared: set[str] = set()
    for module in pkgutil.iter_modules(aisle.contracts.__path__):
        declared |= set(importlib.import_module(f"aisle.contracts.{module.name}").__all__)
    unexported = sorted(declared - internal - set(aisle.__all__))
    assert not unexported, f"aisle.contracts declares what aisle does not export: {unexported}"
