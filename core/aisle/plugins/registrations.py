"""Registration objects: what each hook returns (conda-style, one plugin may return many).

A registration names one thing a plugin contributes and carries the callables that
implement it. Names are validated on construction so a bad plugin fails at load time,
with its distribution named, rather than on a wedding day.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from aisle.crm.contracts import CRMClient, InboundEvent
from aisle.engine.contracts import NodeContext, NodeOutcome, TriggerContext, TriggerDecision
from aisle.jobs.contracts import ActionContext, ActionResult, CheckContext, ConfigProblem

__all__ = [
    "ActionExecutor",
    "CRMProvider",
    "EmptyConfig",
    "NodeType",
    "Registration",
    "RouteRegistration",
    "TriggerType",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class EmptyConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config schema of a type that takes no settings."""


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(
            f"invalid {kind} name {name!r}: use lowercase letters, digits and '_', "
            "starting with a letter (at most 63 characters)"
        )


def _check_schema(kind: str, name: str, config: type[Any]) -> None:
    if not (isinstance(config, type) and issubclass(config, msgspec.Struct)):
        raise TypeError(f"{kind} {name!r}: config must be a msgspec.Struct subclass")


@dataclass(frozen=True, kw_only=True)
class Registration:
    """Fields every registration shares."""

    name: str
    label: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(type(self).__name__, self.name)


@dataclass(frozen=True, kw_only=True)
class NodeType(Registration):
    """A kind of step on the canvas.

    ``on_enter`` is pure: given a :class:`~aisle.engine.contracts.NodeContext` it
    returns what happens next (stay, advance along an edge, complete, fail) and the
    actions to run. ``handles`` names fixed output handles (a canvas draws one
    connection point each); ``dynamic_handles`` says outgoing edges may use handles of
    their own (a decision's branches).
    """

    on_enter: Callable[[NodeContext], NodeOutcome]
    config: type[msgspec.Struct] = EmptyConfig
    icon: str = ""
    category: str = "action"
    handles: Sequence[str] = ()
    dynamic_handles: bool = False
    terminal: bool = False
    context_fields: Sequence[str] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_schema("node type", self.name, self.config)


@dataclass(frozen=True, kw_only=True)
class TriggerType(Registration):
    """A kind of edge: when the enrollment may move from the source step to the target.

    ``evaluate`` is pure and is called on entering the source step (``event`` is None),
    on every event of a type in ``event_types`` and when the clock reaches a time it
    returned. It answers fire now, fire at T, or not yet.
    """

    evaluate: Callable[[TriggerContext], TriggerDecision]
    config: type[msgspec.Struct] = EmptyConfig
    event_types: frozenset[str] = frozenset()
    icon: str = ""
    time_based: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_schema("trigger type", self.name, self.config)


@dataclass(frozen=True, kw_only=True)
class ActionExecutor(Registration):
    """Runs one kind of action in a worker.

    ``execute`` must be idempotent for a given ``ActionContext.idempotency_key``.
    Errors are classified by ``classify`` (default: :class:`RetryableError` and
    network errors retry, anything else is permanent). ``messaging`` executors are
    deferred to the studio's send window. ``preview(config, contact, studio)``, when
    given, renders what the action would send without sending it (the API exposes it).
    ``check(config, context)``, when given, lists what would stop the action from
    running here (a missing server, sender or secret) as :class:`ConfigProblem` values;
    publishing calls it for every action a step would request and refuses the journey
    while any problem remains. It must be quick and pure: no I/O, no secrets read.
    """

    execute: Callable[[ActionContext], Awaitable[ActionResult]]
    config: type[msgspec.Struct] = EmptyConfig
    max_attempts: int = 5
    timeout_seconds: float = 30.0
    messaging: bool = False
    classify: Callable[[BaseException], bool] | None = None
    preview: Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]] | None = None
    check: Callable[[Any, CheckContext], Sequence[ConfigProblem]] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_schema("action executor", self.name, self.config)
        if self.max_attempts < 1:
            raise ValueError(f"action executor {self.name!r}: max_attempts must be >= 1")


@dataclass(frozen=True, kw_only=True)
class CRMProvider(Registration):
    """A CRM the studio already uses.

    ``capabilities`` declares what the provider supports (``"pull"``, ``"push"``,
    ``"webhooks"``, ``"csv_import"``, ``"csv_export"``); the sync engine and the
    conformance suite skip what is not declared.
    """

    credentials: type[msgspec.Struct] = EmptyConfig
    capabilities: frozenset[str] = frozenset()
    client: Callable[[Any, Any], CRMClient] | None = None
    field_mapping: Mapping[str, str] = field(default_factory=dict)
    verify_webhook: Callable[[Mapping[str, str], bytes, str], bool] | None = None
    parse_webhook: Callable[[Mapping[str, str], bytes], Sequence[InboundEvent]] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_schema("CRM provider", self.name, self.credentials)


@dataclass(frozen=True, kw_only=True)
class RouteRegistration(Registration):
    """Litestar route handlers (or routers) a plugin mounts into the app."""

    handlers: Sequence[Any] = ()
    path: str = "/"
