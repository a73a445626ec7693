"""``NodeTypeSuite``: the contract every node type keeps, under the engine and simulation.

A node type's ``on_enter`` must be pure: the same context gives the same outcome, it
touches nothing it is given, and what it asks for are actions an installed executor
accepts. The suite enters the node as the start step of a small journey (see
:mod:`aisle.testing.journeys`), through :func:`aisle.engine.core.start` and
:func:`aisle.engine.simulation.simulate`, and checks the engine's static validation
reports a bad config on the node and field at fault::

    class TestChecklistItem(NodeTypeSuite):
        @pytest.fixture
        def node_type(self):
            return CHECKLIST_ITEM

        @pytest.fixture
        def valid_config(self):
            return {"title": "Confirm the shot list"}
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import msgspec
import pytest

from aisle.contracts.events import EventView
from aisle.contracts.nodes import Advance, Complete, Fail, NodeType, Stay
from aisle.contracts.registry import Registry
from aisle.domain.contact import Contact
from aisle.domain.journey import Edge
from aisle.engine.compiled import CompiledJourney
from aisle.engine.core import start
from aisle.engine.effects import Transition
from aisle.engine.simulation import simulate
from aisle.engine.validation import validate
from aisle.testing.config_schema import (
    action_config,
    json_schema,
    parse_config,
    schema_errors,
    wrong_values,
)
from aisle.testing.journeys import (
    ENROLLMENT,
    NEXT,
    UNDER_TEST,
    compile_or_fail,
    node_context,
    node_graph,
)
from aisle.testing.registration_suite import RegistrationSuite
from aisle.testing.samples import SAMPLE_NOW, sample_contact

__all__ = ["NodeTypeSuite"]


class NodeTypeSuite(RegistrationSuite):
    """Subclass in a test module; override ``node_type`` and, when ``{}`` is not a valid
    config, ``valid_config``; ``outgoing_edges`` when the default edges do not suit."""

    kind: ClassVar[str] = "node type"
    registry_table: ClassVar[str] = "node_types"

    # -- fixtures a plugin's test class overrides -----------------------------------

    @pytest.fixture
    def node_type(self) -> NodeType:
        """The :class:`~aisle.NodeType` under test."""
        pytest.fail(
            "override the `node_type` fixture in your test class to return the NodeType under test"
        )

    @pytest.fixture
    def registration(self, node_type: NodeType) -> NodeType:
        return node_type

    @pytest.fixture
    def outgoing_edges(self, node_type: NodeType) -> Sequence[Edge]:
        """The edges leaving the node under test (source ``UNDER_TEST``, target ``NEXT``).

        Defaults: none for a terminal node; a ``condition`` branch plus an
        ``otherwise`` edge for a node with dynamic handles (a decision); one
        ``immediate`` edge per declared handle; else one ``immediate`` edge.
        """
        if node_type.terminal:
            return ()
        if node_type.dynamic_handles:
            return (
                Edge(
                    id="branch",
                    source=UNDER_TEST,
                    target=NEXT,
                    trigger="condition",
                    config={"expression": "contact.wedding_date != null"},
                    source_handle="branch",
                    priority=1,
                ),
                Edge(
                    id="otherwise",
                    source=UNDER_TEST,
                    target=NEXT,
                    trigger="otherwise",
                    source_handle="otherwise",
                ),
            )
        handles: Sequence[str | None] = node_type.handles or (None,)
        return tuple(
            Edge(
                id=f"out_{handle or 'default'}",
                source=UNDER_TEST,
                target=NEXT,
                trigger="immediate",
                source_handle=handle,
            )
            for handle in handles
        )

    @pytest.fixture
    def contact(self) -> Contact:
        """The couple entering the node (a wedding in September, living in London)."""
        return sample_contact()

    @pytest.fixture
    def entry_event(self) -> EventView | None:
        """The event that moved the client onto the node, if the node reads one."""
        return None

    @pytest.fixture
    def now(self) -> datetime:
        return SAMPLE_NOW

    @pytest.fixture
    def journey(
        self,
        node_type: NodeType,
        valid_config: Any,
        outgoing_edges: Sequence[Edge],
        registry: Registry,
    ) -> CompiledJourney:
        """The node as the start step of a compiled journey."""
        graph = node_graph(node_type.name, node_type.label, valid_config, outgoing_edges)
        return compile_or_fail(graph, registry, f"node type {node_type.name!r}")

    # -- checks ---------------------------------------------------------------------

    def test_handles_are_well_formed(self, node_type: NodeType) -> None:
        """Handles are distinct non-empty names; a terminal node has none."""
        handles = list(node_type.handles)
        assert all(isinstance(h, str) and h for h in handles), (
            f"node type {node_type.name!r}: every handle must be a non-empty string"
        )
        assert len(set(handles)) == len(handles), (
            f"node type {node_type.name!r} declares a handle twice: {handles}"
        )
        assert not (node_type.terminal and (handles or node_type.dynamic_handles)), (
            f"node type {node_type.name!r} is terminal but declares output handles; a "
            "terminal step has no outgoing edges"
        )

    def test_on_enter_is_pure(
        self,
        node_type: NodeType,
        journey: CompiledJourney,
        contact: Contact,
        now: datetime,
        entry_event: EventView | None,
    ) -> None:
        """The same context gives the same outcome, and on_enter changes nothing in it."""
        context = node_context(journey, contact, now, entry_event)
        before = copy.deepcopy((dict(context.contact), dict(context.variables)))
        first = node_type.on_enter(context)
        second = node_type.on_enter(node_context(journey, contact, now, entry_event))
        assert isinstance(first, Stay | Advance | Complete | Fail), (
            f"node type {node_type.name!r} returned {type(first).__name__}: on_enter must "
            "return aisle.Stay, Advance, Complete or Fail"
        )
        assert first == second, (
            f"node type {node_type.name!r} answered {first!r}, then {second!r} for the same "
            "context: on_enter must not read the clock, randomness or anything outside "
            "its NodeContext (use context.now)"
        )
        after = (dict(context.contact), dict(context.variables))
        assert after == before, (
            f"node type {node_type.name!r} changed the contact or variables it was given; "
            "treat the context as read-only and return what should happen instead"
        )

    def test_entering_under_the_engine_is_deterministic(
        self,
        node_type: NodeType,
        journey: CompiledJourney,
        contact: Contact,
        now: datetime,
    ) -> None:
        """Entering the node twice from the same state gives the same transition."""
        first = start(journey, ENROLLMENT, contact, now)
        second = start(journey, ENROLLMENT, contact, now)
        assert first == second, (
            f"node type {node_type.name!r}: entering it twice from the same state gave "
            "different transitions, so a replayed step would plan different actions"
        )

    def test_entering_does_not_fail(
        self,
        node_type: NodeType,
        journey: CompiledJourney,
        contact: Contact,
        now: datetime,
    ) -> None:
        """With its valid config and outgoing edges the node runs without failing."""
        state = start(journey, ENROLLMENT, contact, now).state
        assert state.status != "failed", (
            f"node type {node_type.name!r} failed the enrollment with its valid_config: "
            f"{state.error}"
        )

    def test_terminal_node_completes(
        self,
        node_type: NodeType,
        journey: CompiledJourney,
        contact: Contact,
        now: datetime,
    ) -> None:
        """A terminal node ends the enrollment."""
        if not node_type.terminal:
            pytest.skip(f"node type {node_type.name!r} is not terminal")
        state = start(journey, ENROLLMENT, contact, now).state
        assert state.status == "completed", (
            f"terminal node type {node_type.name!r} left the enrollment {state.status}: "
            "on_enter of a terminal node returns aisle.Complete"
        )

    def test_actions_go_to_installed_executors_that_accept_them(
        self,
        node_type: NodeType,
        journey: CompiledJourney,
        contact: Contact,
        now: datetime,
        registry: Registry,
    ) -> None:
        """Every action the node plans names an installed executor and fits its config."""
        transition = start(journey, ENROLLMENT, contact, now)
        problems = []
        for action in _own_actions(transition):
            executor = registry.action_executors.get(action.executor)
            if executor is None:
                problems.append(
                    f"it asks for executor {action.executor!r}, which no installed plugin "
                    "provides (install the plugin that does, and depend on it)"
                )
                continue
            try:
                action_config(executor.config, action.config)
            except msgspec.ValidationError as exc:
                problems.append(
                    f"executor {action.executor!r} rejects the config it is given ({exc}): "
                    f"{dict(action.config)!r}"
                )
        assert not problems, f"node type {node_type.name!r}: " + "; ".join(problems)

    def test_every_optional_field_set_still_plans_actions_the_executor_accepts(
        self,
        node_type: NodeType,
        config_type: type[msgspec.Struct],
        valid_config: Any,
        outgoing_edges: Sequence[Edge],
        contact: Contact,
        now: datetime,
        registry: Registry,
    ) -> None:
        """The node and its executor agree on every field, not only the required ones.

        The valid config is completed with a sample value for each optional field the
        suite can make one for (booleans flipped, enum members, plain strings, numbers
        in range, string maps and lists); the actions the node then plans must still
        decode in their executors' config schemas. A node that offers a setting its
        executor rejects (or forwards it in another shape) fails here, before a studio
        can save it on the canvas and see every run die.
        """
        full, filled = filled_config(config_type, valid_config)
        graph = node_graph(node_type.name, node_type.label, full, outgoing_edges)
        journey = compile_or_fail(graph, registry, f"node type {node_type.name!r}")
        actions = _own_actions(start(journey, ENROLLMENT, contact, now))
        if not actions:
            pytest.skip(f"node type {node_type.name!r} plans no action")
        problems = []
        for action in actions:
            executor = registry.action_executors.get(action.executor)
            if executor is None:
                continue  # reported by test_actions_go_to_installed_executors_that_accept_them
            try:
                action_config(executor.config, action.config)
            except msgspec.ValidationError as exc:
                problems.append(
                    f"executor {action.executor!r} rejects what the node plans ({exc}): "
                    f"{dict(action.config)!r}"
                )
        assert not problems, (
            f"node type {node_type.name!r} with its optional fields {sorted(filled)} set: "
            + "; ".join(problems)
            + " — make the node's config offer only what its executor's config accepts, "
            "in the same shape"
        )

    def test_simulation_shows_what_the_engine_does(
        self,
        node_type: NodeType,
        journey: CompiledJourney,
        contact: Contact,
        now: datetime,
    ) -> None:
        """Simulating the journey plans the same actions as entering it, every time."""
        engine = start(journey, "simulation", contact, now)
        first = simulate(journey, contact, [], now, timedelta(0))
        second = simulate(journey, contact, [], now, timedelta(0))
        assert first == second, (
            f"node type {node_type.name!r}: two simulations of the same journey differ"
        )
        assert first.actions == engine.actions, (
            f"node type {node_type.name!r}: the simulation planned {list(first.actions)} but "
            f"the engine planned {list(engine.actions)}"
        )

    def test_bad_config_is_reported_on_the_node(
        self,
        node_type: NodeType,
        config_type: type[msgspec.Struct],
        valid_config: Any,
        outgoing_edges: Sequence[Edge],
        registry: Registry,
    ) -> None:
        """Static validation names this node and the field for every wrong value."""
        problems = []
        for field, bad in wrong_values(config_type, json_schema(config_type), valid_config):
            graph = node_graph(node_type.name, node_type.label, bad, outgoing_edges)
            issues = [
                issue
                for issue in validate(graph, registry)
                if issue.code == "invalid_config" and issue.node_id == UNDER_TEST
            ]
            if not any(issue.field and issue.field.split(".")[0] == field for issue in issues):
                problems.append(f"{field} (issues: {[i.message for i in issues] or 'none'})")
        assert not problems, (
            f"node type {node_type.name!r}: the journey validator does not point at the "
            f"field for a wrong value of {'; '.join(problems)}"
        )


_UNSET = object()
_SAMPLE_KEY = "X-Aisle-Sample"


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
    return node


def _bound(node: Mapping[str, Any], inclusive: str, exclusive: str, default: float) -> float:
    for key in (inclusive, exclusive):
        value = node.get(key)
        if isinstance(value, int | float):
            return float(value)
    return default


def _sample(node: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """A plausible value for a JSON Schema, different from its default; or ``_UNSET``."""
    node = _resolve(node, defs)
    if not isinstance(node, dict) or depth > 3:
        return _UNSET
    default = node.get("default", _UNSET)
    for option in node.get("anyOf", ()):
        if _resolve(option, defs).get("type") != "null":
            value = _sample(option, defs, depth + 1)
            if value is not _UNSET:
                return value
    if "enum" in node:
        others = [v for v in node["enum"] if v != default]
        return others[0] if others else _UNSET
    kind = node.get("type")
    if kind == "boolean":
        return default is not True
    if kind in ("integer", "number"):
        low = _bound(node, "minimum", "exclusiveMinimum", 0.0)
        high = _bound(node, "maximum", "exclusiveMaximum", low + 10)
        middle = (low + high) / 2
        return int(middle) if kind == "integer" else middle
    if kind == "string":
        pattern = node.get("pattern")
        if "format" in node or (pattern is not None and not re.search(pattern, "sample")):
            return _UNSET
        return "sample"
    if kind == "array":
        item = _sample(node.get("items", {}), defs, depth + 1)
        return _UNSET if item is _UNSET else [item]
    if kind == "object":
        if "properties" in node:
            value = {}
            for name in node.get("required", ()):
                inner = _sample(node["properties"][name], defs, depth + 1)
                if inner is _UNSET:
                    return _UNSET
                value[name] = inner
            return value
        inner = _sample(node.get("additionalProperties", {"type": "string"}), defs, depth + 1)
        return _UNSET if inner is _UNSET else {_SAMPLE_KEY: inner}
    return _UNSET


def filled_config(
    config: type[msgspec.Struct], valid: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``valid`` plus a sample value for each optional field one can be made for (the
    JSON Schema and the Struct both accepting it), and the names of the fields filled."""
    document = json_schema(config)
    defs = document.get("$defs", {})
    properties = _resolve(document, defs).get("properties", {})
    full: dict[str, Any] = dict(valid)
    filled: list[str] = []
    for name, schema in properties.items():
        if name in full:
            continue
        value = _sample(schema, defs)
        if value is _UNSET:
            continue
        candidate = {**full, name: value}
        if schema_errors(document, candidate):
            continue
        try:
            parse_config(config, candidate)
        except (msgspec.ValidationError, ValueError, TypeError):
            continue
        full, filled = candidate, [*filled, name]
    return full, filled


def _own_actions(transition: Transition) -> list[Any]:
    return [action for action in transition.actions if action.step_id == UNDER_TEST]
