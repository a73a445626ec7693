"""A journey's graph: steps (nodes), edges (triggers) and the rules around them.

This is the storage and engine form. The HTTP API converts it to and from React Flow's
``ReactFlowJsonObject`` field for field (``aisle.api`` owns that codec).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "Edge",
    "EntryCriteria",
    "ExitCriteria",
    "Graph",
    "JourneySettings",
    "Position",
    "ReenrollmentPolicy",
    "Step",
    "Viewport",
]

ReenrollmentPolicy = Literal["once", "after_completion", "always"]


class Position(msgspec.Struct, frozen=True):
    x: float = 0.0
    y: float = 0.0


class Viewport(msgspec.Struct, frozen=True):
    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """A node: one step a client passes through."""

    id: str
    type: str
    position: Position = Position()
    label: str = ""
    config: dict[str, Any] = {}
    # React Flow fields Aisle does not interpret but keeps (width, height, parentId…).
    ui: dict[str, Any] = {}


class Edge(msgspec.Struct, frozen=True, kw_only=True):
    """An edge: the trigger that moves a client from ``source`` to ``target``."""

    id: str
    source: str
    target: str
    trigger: str = "immediate"
    config: dict[str, Any] = {}
    source_handle: str | None = None
    target_handle: str | None = None
    priority: int = 0
    label: str = ""
    ui: dict[str, Any] = {}


class EntryCriteria(msgspec.Struct, frozen=True, kw_only=True):
    """Who enters: an event type plus an optional CEL filter, and/or manual enrollment."""

    event_type: str | None = None
    filter: str | None = None
    manual: bool = True


class ExitCriteria(msgspec.Struct, frozen=True, kw_only=True):
    """An event that takes a client out of the journey wherever they are.

    ``goal`` marks the exit as the journey's goal (counted as converted, not dropped).
    """

    event_type: str
    filter: str | None = None
    goal: bool = False
    name: str = ""


class JourneySettings(msgspec.Struct, frozen=True, kw_only=True):
    start_step: str | None = None
    entry: EntryCriteria = EntryCriteria()
    exits: tuple[ExitCriteria, ...] = ()
    reenrollment: ReenrollmentPolicy = "once"
    max_transitions: int = 50


class Graph(msgspec.Struct, frozen=True, kw_only=True):
    """A journey's draft or one of its frozen published versions."""

    steps: tuple[Step, ...] = ()
    edges: tuple[Edge, ...] = ()
    settings: JourneySettings = JourneySettings()
    viewport: Viewport = Viewport()

    def step(self, step_id: str) -> Step | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def outgoing(self, step_id: str) -> list[Edge]:
        return sorted(
            (e for e in self.edges if e.source == step_id), key=lambda e: (-e.priority, e.id)
        )
