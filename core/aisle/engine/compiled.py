"""A journey version ready to run: types resolved, configs decoded, conditions compiled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aisle.contracts.nodes import EdgeView, NodeType
from aisle.contracts.registry import Registry
from aisle.contracts.triggers import ANY_EVENT, TriggerType
from aisle.domain.journey import Edge, Graph, JourneySettings, Step
from aisle.engine.timing import is_zone
from aisle.engine.validation import InvalidJourney, Issue, analyse

__all__ = ["CompiledEdge", "CompiledJourney", "CompiledStep", "compile_graph"]


@dataclass(frozen=True, slots=True)
class CompiledEdge:
    """An edge with its trigger type and decoded config."""

    edge: Edge
    type: TriggerType
    config: Any
    view: EdgeView

    @property
    def id(self) -> str:
        return self.edge.id

    def listens_to(self, event_type: str) -> bool:
        events = self.type.event_types
        return event_type in events or ANY_EVENT in events


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """A step with its node type, decoded config and outgoing edges in priority order."""

    step: Step
    type: NodeType
    config: Any
    outgoing: tuple[CompiledEdge, ...]
    views: tuple[EdgeView, ...]

    @property
    def id(self) -> str:
        return self.step.id


@dataclass(frozen=True)
class CompiledJourney:
    """A published graph with its types resolved and CEL programs compiled once.

    Immutable and shareable between threads; storage may cache one per
    (journey id, version). ``warnings`` are the validation warnings it was built with.
    """

    graph: Graph
    journey_id: str
    version: int
    studio_timezone: str
    start_step: str
    steps: Mapping[str, CompiledStep]
    programs: Mapping[str, Any]
    warnings: tuple[Issue, ...] = field(default=())

    @property
    def settings(self) -> JourneySettings:
        return self.graph.settings

    def step(self, step_id: str | None) -> CompiledStep | None:
        return self.steps.get(step_id) if step_id is not None else None


def compile_graph(
    graph: Graph,
    registry: Registry,
    *,
    journey_id: str,
    version: int,
    studio_timezone: str = "UTC",
) -> CompiledJourney:
    """Validate and compile; raises :class:`InvalidJourney` listing every issue on error."""
    analysis = analyse(graph, registry)
    if not is_zone(studio_timezone):
        analysis.add(
            "unknown_timezone",
            "error",
            f"the studio timezone {studio_timezone!r} is not a known IANA timezone",
            field="studio_timezone",
        )
    if not analysis.ok or analysis.start_step is None:
        raise InvalidJourney(analysis.issues)

    steps: dict[str, CompiledStep] = {}
    for step in graph.steps:
        edges = tuple(
            CompiledEdge(
                edge=edge,
                type=registry.trigger_types[edge.trigger],
                config=analysis.edge_configs[edge.id],
                view=EdgeView(
                    id=edge.id,
                    target=edge.target,
                    trigger=edge.trigger,
                    config=MappingProxyType(dict(edge.config)),
                    source_handle=edge.source_handle,
                    priority=edge.priority,
                ),
            )
            for edge in graph.outgoing(step.id)
        )
        steps[step.id] = CompiledStep(
            step=step,
            type=registry.node_types[step.type],
            config=analysis.node_configs[step.id],
            outgoing=edges,
            views=tuple(e.view for e in edges),
        )
    return CompiledJourney(
        graph=graph,
        journey_id=journey_id,
        version=version,
        studio_timezone=studio_timezone,
        start_step=analysis.start_step,
        steps=MappingProxyType(steps),
        programs=MappingProxyType(dict(analysis.programs)),
        warnings=tuple(analysis.issues),
    )
