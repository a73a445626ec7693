"""Small builders for engine tests: steps, edges, graphs, contacts and events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aisle.contracts.registry import Registry
from aisle.domain import (
    Contact,
    Edge,
    EntryCriteria,
    Event,
    ExitCriteria,
    Graph,
    JourneySettings,
    Partner,
    Step,
)
from aisle.engine.core import CompiledJourney, compile_journey

__all__ = [
    "T0",
    "compiled",
    "contact",
    "edge",
    "event",
    "graph",
    "kinds",
    "step",
]

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
"""A Monday morning, the default 'now' of engine tests."""


def step(id: str, type: str = "wait", label: str = "", **config: Any) -> Step:
    return Step(id=id, type=type, label=label, config=config)


def edge(
    id: str,
    source: str,
    target: str,
    trigger: str = "immediate",
    *,
    priority: int = 0,
    handle: str | None = None,
    **config: Any,
) -> Edge:
    return Edge(
        id=id,
        source=source,
        target=target,
        trigger=trigger,
        config=config,
        priority=priority,
        source_handle=handle,
    )


def graph(
    steps: list[Step],
    edges: list[Edge],
    *,
    start: str | None = None,
    entry: EntryCriteria | None = None,
    exits: tuple[ExitCriteria, ...] = (),
    max_transitions: int = 50,
) -> Graph:
    return Graph(
        steps=tuple(steps),
        edges=tuple(edges),
        settings=JourneySettings(
            start_step=start,
            entry=entry or EntryCriteria(),
            exits=exits,
            max_transitions=max_transitions,
        ),
    )


def compiled(g: Graph, registry: Registry, tz: str = "UTC", version: int = 1) -> CompiledJourney:
    return compile_journey(g, registry, journey_id="j1", version=version, studio_timezone=tz)


def contact(
    wedding: date | None = date(2026, 6, 20), tz: str | None = None, **custom: Any
) -> Contact:
    return Contact(
        id="c1",
        partners=(
            Partner(first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+441"),
            Partner(first_name="Bea", last_name="Smith", email="bea@example.com"),
        ),
        email="couple@example.com",
        wedding_date=wedding,
        timezone=tz,
        custom=custom,
    )


def event(type: str, at: datetime = T0, id: str = "ev1", **payload: Any) -> Event:
    return Event(
        id=id, type=type, contact_id="c1", occurred_at=at, idempotency_key=id, payload=payload
    )


def kinds(log: Any) -> list[str]:
    return [record.kind for record in log]
