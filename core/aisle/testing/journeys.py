"""Small journeys that put one node or trigger type under the real engine.

A node type is tested as the start step of a journey whose edges lead to an ``end``
step; a trigger type as the only edge between a ``wait`` step and an ``end`` step.
Both journeys are compiled by :func:`aisle.engine.core.compile_journey` against the
registry, so the type is resolved, its config decoded and its conditions compiled
exactly as in production.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest

from aisle.contracts.events import EventView
from aisle.contracts.nodes import NodeContext
from aisle.contracts.registry import Registry
from aisle.contracts.triggers import TriggerContext
from aisle.domain.contact import Contact
from aisle.domain.journey import Edge, Graph, JourneySettings, Step
from aisle.engine.compiled import CompiledJourney
from aisle.engine.conditions import ConditionScope
from aisle.engine.core import compile_journey
from aisle.engine.validation import InvalidJourney

__all__ = [
    "EDGE",
    "ENROLLMENT",
    "NEXT",
    "SOURCE",
    "TARGET",
    "UNDER_TEST",
    "compile_or_fail",
    "node_context",
    "node_graph",
    "trigger_context",
    "trigger_graph",
]

UNDER_TEST = "under_test"
"""The id of the step holding the node type under test."""
NEXT = "next"
"""The ``end`` step a node's outgoing edges lead to."""
SOURCE = "source"
"""The ``wait`` step the trigger under test leaves."""
TARGET = "target"
"""The ``end`` step the trigger under test leads to."""
EDGE = "edge_under_test"
"""The id of the edge carrying the trigger type under test."""
ENROLLMENT = "conformance"
"""The enrollment id the suites run under."""


def node_graph(node: str, label: str, config: Mapping[str, Any], edges: Sequence[Edge]) -> Graph:
    """``node`` (config ``config``) as the start step; ``edges`` lead to :data:`NEXT`."""
    steps = [Step(id=UNDER_TEST, type=node, label=label, config=dict(config))]
    if any(edge.target == NEXT for edge in edges):
        steps.append(Step(id=NEXT, type="end", label="End"))
    return Graph(
        steps=tuple(steps),
        edges=tuple(edges),
        settings=JourneySettings(start_step=UNDER_TEST),
    )


def trigger_graph(trigger: str, config: Mapping[str, Any], source: str = "wait") -> Graph:
    """A ``source`` step (a ``wait``), then the trigger under test, then an ``end`` step."""
    return Graph(
        steps=(
            Step(id=SOURCE, type=source, label="Source"),
            Step(id=TARGET, type="end", label="End"),
        ),
        edges=(Edge(id=EDGE, source=SOURCE, target=TARGET, trigger=trigger, config=dict(config)),),
        settings=JourneySettings(start_step=SOURCE),
    )


def compile_or_fail(graph: Graph, registry: Registry, what: str) -> CompiledJourney:
    """Compile ``graph`` as storage does, failing the test with every issue if it cannot."""
    try:
        return compile_journey(graph, registry, journey_id="conformance", version=1)
    except InvalidJourney as invalid:
        issues = "; ".join(
            f"{issue.code} at {issue.node_id or issue.edge_id or 'journey'}"
            + (f" field {issue.field!r}" if issue.field else "")
            + f": {issue.message}"
            for issue in invalid.errors
        )
        pytest.fail(f"a journey using {what} with its valid_config does not compile: {issues}")


def node_context(
    journey: CompiledJourney, contact: Contact, now: datetime, event: EventView | None = None
) -> NodeContext:
    """The context the engine gives the node under test on entering it."""
    step = journey.steps[UNDER_TEST]
    activation = contact.activation()
    scope = ConditionScope(journey.programs, activation, {}, now)
    return NodeContext(
        node_id=UNDER_TEST,
        label=step.step.label,
        config=step.config,
        now=now,
        contact=activation,
        variables={},
        event=event,
        outgoing=step.views,
        evaluate=scope.bind(event),
        studio_timezone=journey.studio_timezone,
        enrollment_id=ENROLLMENT,
        visit=1,
    )


def trigger_context(
    journey: CompiledJourney,
    contact: Contact,
    entered_at: datetime,
    now: datetime,
    event: EventView | None = None,
) -> TriggerContext:
    """The context the engine gives the trigger under test at ``now``."""
    edge = journey.steps[SOURCE].outgoing[0]
    activation = contact.activation()
    scope = ConditionScope(journey.programs, activation, {}, now)
    return TriggerContext(
        edge_id=EDGE,
        config=edge.config,
        now=now,
        entered_at=entered_at,
        contact=activation,
        variables={},
        event=event,
        studio_timezone=journey.studio_timezone,
        evaluate=scope.bind(event),
        step_id=SOURCE,
        enrollment_id=ENROLLMENT,
        visit=1,
    )
