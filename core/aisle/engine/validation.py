"""Static validation of a journey graph: every issue names the node, edge and field at fault.

``validate(graph, registry)`` lists the issues; :func:`analyse` also returns the decoded
configs and compiled conditions, which :func:`aisle.engine.core.compile_journey` reuses
so a journey is checked and compiled in one pass.

Issue codes (severity):

- ``empty_journey`` (error): the graph has no steps.
- ``duplicate_step_id`` / ``duplicate_edge_id`` (error).
- ``unknown_node_type`` / ``unknown_trigger_type`` (error; field ``type`` / ``trigger``).
- ``invalid_config`` (error): the config fails the type's schema; ``field`` is the path.
- ``missing_start_step`` / ``unknown_start_step`` (error; field ``settings.start_step``).
- ``dangling_edge`` (error; field ``source`` or ``target``).
- ``unreachable_step`` (warning): no path from the start step.
- ``dead_end`` (warning): a non-terminal step without outgoing edges (it completes the
  enrollment with outcome ``dead_end``).
- ``edge_from_terminal`` (warning): a terminal step's edges are never taken.
- ``cycle_without_wait`` (error): a cycle whose edges all fire at once (``immediate``,
  ``condition``, ``otherwise``); ``related`` lists its steps and edges.
- ``decision_without_otherwise`` (warning): a decision may fail when nothing matches.
- ``ignored_by_decision`` (warning): a decision only follows ``condition`` and
  ``otherwise`` edges.
- ``otherwise_outside_decision`` (error): only branching steps take ``otherwise`` edges.
- ``unknown_handle`` (warning): the source handle is not one the node type offers.
- ``cel_syntax`` (error) / ``cel_unknown_variable`` (warning): a condition that does
  not compile, or that starts from a name other than contact, event, vars or now.
- ``cel_too_complex`` (error): a condition over the length, nesting or comprehension
  limits (:mod:`aisle.engine.condition_limits`); it is never compiled.
- ``invalid_settings`` (error): journey settings that cannot work (e.g. an exit with no
  event type, ``max_transitions`` below 1).
- ``no_entry`` (warning): neither an entry event nor manual enrollment is allowed.
- ``unknown_timezone`` (error; only from ``compile_journey``): the studio timezone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from aisle.contracts.nodes import NodeType
from aisle.contracts.registry import Registry
from aisle.contracts.triggers import TriggerType
from aisle.domain.journey import Edge, Graph, Step
from aisle.engine.condition_limits import limit_violation
from aisle.engine.conditions import (
    ConditionSyntaxError,
    ConditionTooComplex,
    cel_fields,
    compile_condition,
    unknown_variables,
)

__all__ = [
    "INSTANT_TRIGGERS",
    "Analysis",
    "InvalidJourney",
    "Issue",
    "Severity",
    "analyse",
    "condition_limit_issues",
    "decode_config",
    "validate",
]

Severity = Literal["error", "warning"]

INSTANT_TRIGGERS = frozenset({"immediate", "condition", "otherwise"})
"""Trigger types that can fire the moment a step is entered, without waiting."""


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """One finding, located so a canvas can highlight it."""

    code: str
    severity: Severity
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    field: str | None = None
    related: tuple[str, ...] = ()
    """Every node and edge id involved, when there are several (a cycle)."""


class InvalidJourney(Exception):
    """A journey that cannot be compiled; ``issues`` holds every error and warning."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        lines = "; ".join(i.message for i in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid journey: {lines}{more}")

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")


@dataclass
class Analysis:
    """What validation learned: issues plus the decoded configs and compiled conditions."""

    issues: list[Issue] = field(default_factory=list)
    node_configs: dict[str, Any] = field(default_factory=dict)
    edge_configs: dict[str, Any] = field(default_factory=dict)
    programs: dict[str, Any] = field(default_factory=dict)
    start_step: str | None = None

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    def add(self, code: str, severity: Severity, message: str, **where: Any) -> None:
        self.issues.append(Issue(code=code, severity=severity, message=message, **where))


_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `(?P<name>[^`]+)`")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")
_FIRST_NAME = re.compile(r"`(?P<name>[A-Za-z_][\w.]*)`")


def _field_of(message: str) -> tuple[str | None, str]:
    """Turn a msgspec error into (field path, message without the ``$`` path)."""
    path = ""
    match = _AT_PATH.search(message)
    if match:
        path = match["path"].lstrip(".")
        message = message[: match.start()]
    name = _UNKNOWN.search(message) or _MISSING.search(message)
    if name:
        path = f"{path}.{name['name']}" if path else name["name"]
    elif not path:
        # A struct's own check (__post_init__) names the field in backticks.
        first = _FIRST_NAME.search(message)
        if first:
            path = first["name"]
    return (path or None), message


def _description(schema: type[msgspec.Struct], path: str) -> str | None:
    """The JSON Schema description of the field at ``path`` (for readable messages)."""
    try:
        document = msgspec.json.schema(schema)
    except Exception:  # an unusual plugin schema; the raw message will do
        return None
    defs = document.get("$defs", {})
    node: Any = document
    for part in path.split("."):
        node = _resolve(node, defs)
        node = node.get("properties", {}).get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    node = _resolve(node, defs)
    description = node.get("description") if isinstance(node, dict) else None
    return description if isinstance(description, str) and description else None


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        return defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
    if isinstance(node, dict) and "anyOf" in node:
        for option in node["anyOf"]:
            resolved = _resolve(option, defs)
            if isinstance(resolved, dict) and resolved.get("type") != "null":
                return resolved
    return node


def decode_config(schema: type[msgspec.Struct], raw: Mapping[str, Any]) -> Any:
    """Decode a step's or edge's raw config into its type's schema (msgspec errors pass)."""
    return msgspec.convert(dict(raw), type=schema)


def _decode(
    analysis: Analysis,
    schema: type[msgspec.Struct],
    raw: Mapping[str, Any],
    where: dict[str, str],
    what: str,
) -> Any | None:
    try:
        return decode_config(schema, raw)
    except msgspec.ValidationError as exc:
        path, message = _field_of(str(exc))
        if path and "matching regex" in message:
            hint = _description(schema, path)
            if hint:
                message = f"expected {hint[0].lower()}{hint[1:].rstrip('.')}"
        analysis.add(
            "invalid_config",
            "error",
            f"{what}: {message}" + (f" (field {path!r})" if path else ""),
            field=path,
            **where,
        )
    except Exception as exc:  # a plugin schema's own check raising something else
        analysis.add("invalid_config", "error", f"{what}: {type(exc).__name__}: {exc}", **where)
    return None


def _conditions(
    analysis: Analysis, config: Any, where: dict[str, str], what: str, prefix: str = ""
) -> None:
    for path, expression in cel_fields(config):
        _condition(analysis, expression, where, what, f"{prefix}{path}")


def _condition(
    analysis: Analysis, expression: str, where: dict[str, str], what: str, path: str
) -> None:
    try:
        program = compile_condition(expression)
    except ConditionTooComplex as exc:
        analysis.add(
            "cel_too_complex",
            "error",
            f"{what}: the condition in {path!r} is too complex: {exc}",
            field=path,
            **where,
        )
        return
    except ConditionSyntaxError as exc:
        analysis.add(
            "cel_syntax",
            "error",
            f"{what}: the condition in {path!r} does not compile: {exc}",
            field=path,
            **where,
        )
        return
    analysis.programs[expression] = program
    unknown = unknown_variables(program, expression)
    if unknown:
        analysis.add(
            "cel_unknown_variable",
            "warning",
            f"{what}: the condition in {path!r} uses {', '.join(map(repr, unknown))}; "
            "conditions start from contact, event, vars or now",
            field=path,
            **where,
        )


def _step_label(step: Step) -> str:
    return f"step {step.id!r}" + (f" ({step.label})" if step.label else "")


def _is_instant(trigger: TriggerType | None) -> bool:
    if trigger is None:
        return False
    if trigger.name in INSTANT_TRIGGERS:
        return True
    return not trigger.time_based and not trigger.event_types


def analyse(graph: Graph, registry: Registry) -> Analysis:
    """Check ``graph`` against the registry's types; decode configs, compile conditions."""
    a = Analysis()
    if not graph.steps:
        a.add("empty_journey", "error", "the journey has no steps")

    steps: dict[str, Step] = {}
    for step in graph.steps:
        if step.id in steps:
            a.add(
                "duplicate_step_id", "error", f"two steps have the id {step.id!r}", node_id=step.id
            )
            continue
        steps[step.id] = step
    edges: dict[str, Edge] = {}
    for edge in graph.edges:
        if edge.id in edges:
            a.add(
                "duplicate_edge_id", "error", f"two edges have the id {edge.id!r}", edge_id=edge.id
            )
            continue
        edges[edge.id] = edge

    node_types: dict[str, NodeType] = {}
    for step in steps.values():
        what = _step_label(step)
        node_type = registry.node_type(step.type)
        if node_type is None:
            a.add(
                "unknown_node_type",
                "error",
                f"{what}: unknown node type {step.type!r}",
                node_id=step.id,
                field="type",
            )
            continue
        node_types[step.id] = node_type
        config = _decode(a, node_type.config, step.config, {"node_id": step.id}, what)
        if config is not None:
            a.node_configs[step.id] = config
            _conditions(a, config, {"node_id": step.id}, what, "config.")

    trigger_types: dict[str, TriggerType] = {}
    outgoing: dict[str, list[Edge]] = defaultdict(list)
    incoming: dict[str, list[Edge]] = defaultdict(list)
    for edge in edges.values():
        what = f"edge {edge.id!r}"
        for end in ("source", "target"):
            ref = getattr(edge, end)
            if ref not in steps:
                a.add(
                    "dangling_edge",
                    "error",
                    f"{what}: its {end} step {ref!r} does not exist",
                    edge_id=edge.id,
                    field=end,
                )
        trigger = registry.trigger_type(edge.trigger)
        if trigger is None:
            a.add(
                "unknown_trigger_type",
                "error",
                f"{what}: unknown trigger type {edge.trigger!r}",
                edge_id=edge.id,
                field="trigger",
            )
        else:
            trigger_types[edge.id] = trigger
            config = _decode(a, trigger.config, edge.config, {"edge_id": edge.id}, what)
            if config is not None:
                a.edge_configs[edge.id] = config
                _conditions(a, config, {"edge_id": edge.id}, what, "config.")
        if edge.source in steps and edge.target in steps:
            outgoing[edge.source].append(edge)
            incoming[edge.target].append(edge)
            _check_edge_against_source(a, edge, steps[edge.source], node_types)

    _check_settings(a, graph, steps, incoming)
    _check_shape(a, steps, node_types, outgoing, trigger_types)
    return a


def _check_edge_against_source(
    a: Analysis,
    edge: Edge,
    source: Step,
    node_types: Mapping[str, NodeType],
) -> None:
    node_type = node_types.get(source.id)
    if node_type is None:
        return
    what = f"edge {edge.id!r}"
    if node_type.terminal:
        a.add(
            "edge_from_terminal",
            "warning",
            f"{what} leaves {_step_label(source)}, which ends the journey; it is never taken",
            edge_id=edge.id,
            field="source",
        )
    is_otherwise = edge.trigger == "otherwise"
    if is_otherwise and not node_type.dynamic_handles:
        a.add(
            "otherwise_outside_decision",
            "error",
            f"{what}: an 'otherwise' edge only works from a decision; "
            f"{_step_label(source)} is a {node_type.name!r}",
            edge_id=edge.id,
            field="trigger",
        )
    if node_type.name == "decision" and edge.trigger not in ("condition", "otherwise"):
        a.add(
            "ignored_by_decision",
            "warning",
            f"{what}: decision {source.id!r} only follows 'condition' and 'otherwise' "
            f"edges; this {edge.trigger!r} edge is never taken",
            edge_id=edge.id,
            field="trigger",
        )
    if (
        edge.source_handle
        and node_type.handles
        and not node_type.dynamic_handles
        and edge.source_handle not in node_type.handles
    ):
        a.add(
            "unknown_handle",
            "warning",
            f"{what}: {_step_label(source)} has no output handle {edge.source_handle!r} "
            f"(it has {', '.join(node_type.handles)})",
            edge_id=edge.id,
            field="source_handle",
        )


def _check_settings(
    a: Analysis, graph: Graph, steps: Mapping[str, Step], incoming: Mapping[str, list[Edge]]
) -> None:
    settings = graph.settings
    if settings.start_step is not None:
        if settings.start_step in steps:
            a.start_step = settings.start_step
        else:
            a.add(
                "unknown_start_step",
                "error",
                f"the start step {settings.start_step!r} does not exist",
                node_id=settings.start_step,
                field="settings.start_step",
            )
    elif steps:
        roots = [s for s in steps if not incoming.get(s)]
        if len(roots) == 1:
            a.start_step = roots[0]
        else:
            detail = (
                f"several steps have no incoming edge ({', '.join(map(repr, roots))})"
                if roots
                else "every step has an incoming edge"
            )
            a.add(
                "missing_start_step",
                "error",
                f"no start step is set and {detail}; choose one",
                field="settings.start_step",
            )
    if settings.max_transitions < 1:
        a.add(
            "invalid_settings",
            "error",
            f"max_transitions must be at least 1, not {settings.max_transitions}",
            field="settings.max_transitions",
        )
    entry = settings.entry
    if entry.filter is not None:
        _condition(a, entry.filter, {}, "the entry criteria", "settings.entry.filter")
        if entry.event_type is None:
            a.add(
                "invalid_settings",
                "error",
                "the entry criteria have a filter but no event type",
                field="settings.entry.event_type",
            )
    if entry.event_type is None and not entry.manual:
        a.add(
            "no_entry",
            "warning",
            "nobody can enter: set an entry event type or allow manual enrollment",
            field="settings.entry",
        )
    for index, exit_ in enumerate(settings.exits):
        where = f"settings.exits[{index}]"
        name = f"exit {exit_.name or index!r}"
        if not exit_.event_type:
            a.add(
                "invalid_settings",
                "error",
                f"{name} has no event type",
                field=f"{where}.event_type",
            )
        if exit_.filter is not None:
            _condition(a, exit_.filter, {}, name, f"{where}.filter")


def _check_shape(
    a: Analysis,
    steps: Mapping[str, Step],
    node_types: Mapping[str, NodeType],
    outgoing: Mapping[str, list[Edge]],
    trigger_types: Mapping[str, TriggerType],
) -> None:
    if a.start_step is not None:
        seen = {a.start_step}
        frontier = [a.start_step]
        while frontier:
            current = frontier.pop()
            for edge in outgoing.get(current, ()):
                if edge.target not in seen:
                    seen.add(edge.target)
                    frontier.append(edge.target)
        for step_id, step in steps.items():
            if step_id not in seen:
                a.add(
                    "unreachable_step",
                    "warning",
                    f"{_step_label(step)} cannot be reached from the start step {a.start_step!r}",
                    node_id=step_id,
                )

    for step_id, step in steps.items():
        node_type = node_types.get(step_id)
        if node_type is None:
            continue
        edges = outgoing.get(step_id, [])
        if not node_type.terminal and not edges:
            a.add(
                "dead_end",
                "warning",
                f"{_step_label(step)} has no outgoing edge and is not an end step; "
                "enrollments reaching it complete as 'dead_end'",
                node_id=step_id,
            )
        if (
            node_type.name == "decision"
            and edges
            and not any(e.trigger == "otherwise" or e.source_handle == "otherwise" for e in edges)
        ):
            a.add(
                "decision_without_otherwise",
                "warning",
                f"decision {step_id!r} has no 'otherwise' edge; an enrollment fails there "
                "when no condition matches",
                node_id=step_id,
            )

    # Cycles through edges that fire at once spin until the transition bound stops them.
    instant: dict[str, list[Edge]] = {
        step_id: [
            e
            for e in edges
            if _is_instant(trigger_types.get(e.id))
            and not (node_types.get(step_id) is not None and node_types[step_id].terminal)
        ]
        for step_id, edges in outgoing.items()
    }
    for component in _cycles(list(steps), instant):
        members = set(component)
        cycle_edges = sorted(
            e.id for s in component for e in instant.get(s, ()) if e.target in members
        )
        names = ", ".join(map(repr, component))
        a.add(
            "cycle_without_wait",
            "error",
            f"steps {names} form a loop whose edges all fire at once; add a wait "
            "(a time or event trigger) somewhere in it",
            node_id=component[0],
            edge_id=cycle_edges[0] if cycle_edges else None,
            related=(*component, *cycle_edges),
        )


def _cycles(nodes: list[str], edges: Mapping[str, list[Edge]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = [e.target for e in edges.get(node, ())]
            if position < len(successors):
                work.append((node, position + 1))
                nxt = successors[position]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                looped = len(component) > 1 or any(e.target == node for e in edges.get(node, ()))
                if looped:
                    order = {n: i for i, n in enumerate(nodes)}
                    result.append(sorted(component, key=order.__getitem__))
    return result


def condition_limit_issues(graph: Graph, registry: Registry) -> list[Issue]:
    """The ``cel_too_complex`` issues of ``graph``, found without compiling anything.

    What an API refuses to store: only the conditions :func:`analyse` would compile
    (those of configs that decode, and the entry and exit filters) are looked at.
    """
    scratch = Analysis()
    # (expression, step id, edge id, what, field)
    found: list[tuple[str, str | None, str | None, str, str]] = []
    for step in graph.steps:
        node_type = registry.node_type(step.type)
        config = node_type and _decode(scratch, node_type.config, step.config, {}, "")
        found += [
            (expression, step.id, None, _step_label(step), f"config.{path}")
            for path, expression in (cel_fields(config) if config is not None else ())
        ]
    for edge in graph.edges:
        trigger = registry.trigger_type(edge.trigger)
        config = trigger and _decode(scratch, trigger.config, edge.config, {}, "")
        found += [
            (expression, None, edge.id, f"edge {edge.id!r}", f"config.{path}")
            for path, expression in (cel_fields(config) if config is not None else ())
        ]
    settings = graph.settings
    if settings.entry.filter is not None:
        found.append(
            (settings.entry.filter, None, None, "the entry criteria", "settings.entry.filter")
        )
    for index, exit_ in enumerate(settings.exits):
        if exit_.filter is not None:
            name = f"exit {exit_.name or index!r}"
            found.append((exit_.filter, None, None, name, f"settings.exits[{index}].filter"))
    issues: list[Issue] = []
    for expression, node_id, edge_id, what, path in found:
        violation = limit_violation(expression)
        if violation is not None:
            issues.append(
                Issue(
                    code="cel_too_complex",
                    severity="error",
                    message=f"{what}: the condition in {path!r} is too complex: {violation}",
                    node_id=node_id,
                    edge_id=edge_id,
                    field=path,
                )
            )
    return issues


def validate(graph: Graph, registry: Registry) -> list[Issue]:
    """Every issue in ``graph``: errors block publishing, warnings do not."""
    return analyse(graph, registry).issues
