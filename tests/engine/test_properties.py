"""Hypothesis properties of the engine over random graphs, contacts, events and clocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aisle.contracts.registry import Registry
from aisle.contracts.triggers import Fire, TriggerType
from aisle.domain import Contact, Edge, Event, Graph, JourneySettings, Step
from aisle.engine.core import compile_journey, handle_event, start, tick
from aisle.engine.effects import Transition
from aisle.engine.validation import InvalidJourney
from aisle.plugins.manager import load_registry

from .graphs import contact
from .photography import photography_journey

REGISTRY = load_registry(entry_points=False)
# Fires at once but, listening to an event, is not seen as instant by the validator:
# the only way to get a loop without a wait past validation, so the bound is what stops it.
ALWAYS_NOW = TriggerType(
    name="always_now", evaluate=lambda ctx: Fire(), event_types=frozenset({"never.sent"})
)
LOOPY: Registry = replace(
    REGISTRY,
    trigger_types=MappingProxyType({**REGISTRY.trigger_types, "always_now": ALWAYS_NOW}),
)

BASE = datetime(2026, 1, 5, 10, tzinfo=UTC)
KNOWN_LOG_KINDS = {
    "enrollment.started",
    "step.entered",
    "action.planned",
    "edge.taken",
    "wake.scheduled",
    "wake.rescheduled",
    "enrollment.completed",
    "enrollment.exited",
    "enrollment.failed",
    "condition.error",
    "event.ignored",
    "step.dead_end",
    "exit.matched",
}
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

NODE_CONFIGS: dict[str, list[dict[str, Any]]] = {
    "wait": [{}],
    "end": [{}, {"outcome": "booked"}],
    "email": [{"subject": "Hi", "text": "x"}, {"template_id": "t", "to": "partner2"}],
    "sms": [{"body": "Hi"}],
    "decision": [{}],
    "payment": [{"amount": "100", "currency": "GBP"}],
    "vendor_action": [
        {"vendor_type": "dj", "title": "t", "due": {"relative_to": "wedding_date", "days": -3}}
    ],
    "client_action": [{"title": "t", "partner_approval_required": True}],
}
EXPRESSIONS = [
    "contact.custom.booked",
    "contact.custom.budget > 1000",
    "event.payload.ok == true",
    "vars.n > 1",
    "true",
    "false",
]
TRIGGER_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("immediate", {}),
    ("time_delay", {"days": 1}),
    ("time_delay", {"hours": 5, "minutes": 30}),
    ("date_reached", {"days": -30}),
    ("date_reached", {"days": -7, "if_past": "skip", "at": "02:30", "zone": "America/New_York"}),
    ("date_reached", {"field": "custom.party", "hours": 3}),
    ("form_submission", {}),
    ("form_submission", {"form_id": "q"}),
    ("payment_received", {"min_amount": "100"}),
    ("task_completed", {}),
    ("manual", {}),
    *[("condition", {"expression": e}) for e in EXPRESSIONS],
    ("otherwise", {}),
]
EVENT_TYPES = [
    "form.submitted",
    "payment.received",
    "task.completed",
    "manual.triggered",
    "contact.updated",
    "booking.confirmed",
]


@st.composite
def graphs(draw: st.DrawFn, *, loopy: bool = False) -> Graph:
    count = draw(st.integers(1, 7))
    ids = [f"s{i}" for i in range(count)]
    steps = []
    for step_id in ids:
        # A loopy graph has no condition edges, so a decision there could only fail.
        kinds = sorted(k for k in NODE_CONFIGS if not (loopy and k == "decision"))
        kind = draw(st.sampled_from(kinds))
        steps.append(Step(id=step_id, type=kind, config=draw(st.sampled_from(NODE_CONFIGS[kind]))))
    edges = []
    for index in range(draw(st.integers(0, count * 2))):
        source = draw(st.sampled_from(ids))
        target = draw(st.sampled_from(ids))
        if loopy:
            trigger, config = "always_now", {}
        else:
            trigger, config = draw(st.sampled_from(TRIGGER_CONFIGS))
        edges.append(
            Edge(
                id=f"e{index}",
                source=source,
                target=target,
                trigger=trigger,
                config=config,
                priority=draw(st.integers(0, 2)),
            )
        )
    return Graph(
        steps=tuple(steps),
        edges=tuple(edges),
        settings=JourneySettings(start_step="s0", max_transitions=draw(st.integers(1, 20))),
    )


contacts = st.builds(
    lambda wedding, tz, booked, budget, party: contact(
        wedding=wedding, tz=tz, booked=booked, budget=budget, party=party
    ),
    st.one_of(st.none(), st.dates(date(2025, 6, 1), date(2027, 12, 31))),
    st.sampled_from([None, "Europe/London", "America/New_York", "Australia/Sydney"]),
    st.booleans(),
    st.integers(0, 5000),
    st.sampled_from([None, "2026-03-08", "2026-03-08T01:00:00Z", "not a date"]),
)


@st.composite
def happenings(draw: st.DrawFn) -> list[tuple[str, timedelta, dict[str, Any]]]:
    """A run: a list of ("tick" | event type, time since the previous, payload)."""
    items = []
    for _ in range(draw(st.integers(0, 8))):
        gap = timedelta(minutes=draw(st.integers(0, 60 * 24 * 200)))
        kind = draw(st.sampled_from(["tick", "tick", *EVENT_TYPES]))
        payload = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "form_id": st.sampled_from(["q", "other"]),
                    "amount": st.sampled_from(["50", "100", 250, "x"]),
                    "step_id": st.sampled_from(["s0", "s1", "s2"]),
                    "edge_id": st.sampled_from(["e0", "e1", "e2"]),
                    "ok": st.booleans(),
                },
            )
        )
        items.append((kind, gap, payload))
    return items


def compile_or_skip(g: Graph, registry: Registry = REGISTRY) -> Any:
    try:
        return compile_journey(g, registry, journey_id="j", version=1, studio_timezone="UTC")
    except InvalidJourney:
        assume(False)
        raise


def run(journey: Any, person: Contact, script: list[Any]) -> list[Transition]:
    """Drive an enrollment through ``script``; ticks land at ``wake_at`` when it is set."""
    transitions = [start(journey, "en1", person, BASE)]
    now = BASE
    for number, (kind, gap, payload) in enumerate(script):
        state = transitions[-1].state
        if kind == "tick":
            now = max(now, state.wake_at) if state.wake_at is not None else now + gap
            transitions.append(tick(journey, state, person, now))
        else:
            now = now + gap
            event = Event(
                id=f"ev{number}",
                type=kind,
                contact_id=person.id,
                occurred_at=now,
                idempotency_key=f"ev{number}",
                payload=payload,
            )
            transitions.append(handle_event(journey, state, person, event, now))
    return transitions


def check_invariants(journey: Any, transitions: list[Transition]) -> None:
    keys: list[str] = []
    visit = 0
    for t in transitions:
        state = t.state
        assert state.status in {"active", "completed", "exited", "failed"}
        assert state.visit >= visit
        visit = state.visit
        if state.status == "active":
            assert state.step_id in journey.steps
            assert state.entered_at is not None
        else:
            assert state.wake_at is None
        if state.status == "failed":
            assert state.error
        for record in t.log:
            assert record.kind in KNOWN_LOG_KINDS, record.kind
            assert record.at.tzinfo is not None
        for action in t.actions:
            enrollment, action_visit, step_id, key = action.idempotency_key.split(":")
            assert (enrollment, step_id, key) == ("en1", action.step_id, "main")
            assert 1 <= int(action_visit) <= state.visit
            keys.append(action.idempotency_key)
    assert len(keys) == len(set(keys)), "an idempotency key was planned twice"


@PROPERTY_SETTINGS
@given(graphs(), contacts, happenings())
def test_random_valid_graphs_run_without_raising(g, person, script):
    journey = compile_or_skip(g)
    check_invariants(journey, run(journey, person, script))


@PROPERTY_SETTINGS
@given(graphs(), contacts, happenings())
def test_deterministic_and_stable_on_replay(g, person, script):
    journey = compile_or_skip(g)
    first = run(journey, person, script)
    again = run(journey, person, script)
    assert first == again
    # Recompiling the same graph changes nothing either.
    assert run(compile_or_skip(g), person, script) == first


@PROPERTY_SETTINGS
@given(graphs(loopy=True), contacts)
def test_loop_bound_always_terminates(g, person):
    journey = compile_or_skip(g, LOOPY)
    t = start(journey, "en1", person, BASE)
    taken = sum(1 for r in t.log if r.kind == "edge.taken")
    assert taken <= g.settings.max_transitions
    if t.state.status == "failed":
        assert "transitions in one go" in (t.state.error or "")
    else:
        assert t.state.status == "completed"


@PROPERTY_SETTINGS
@given(
    st.integers(0, 400),
    st.integers(0, 72),
    st.integers(0, 59),
    st.integers(0, 10**8),
    contacts,
)
def test_time_delay_wake_is_never_before_entry(days, hours, minutes, offset, person):
    g = Graph(
        steps=(Step(id="hold", type="wait"), Step(id="done", type="end")),
        edges=(
            Edge(
                id="e",
                source="hold",
                target="done",
                trigger="time_delay",
                config={"days": days, "hours": hours, "minutes": minutes},
            ),
        ),
    )
    journey = compile_or_skip(g)
    now = BASE + timedelta(seconds=offset)
    t = start(journey, "en1", person, now)
    if t.state.status == "active":
        assert t.state.entered_at == now
        assert t.state.wake_at is not None
        assert t.state.wake_at >= t.state.entered_at
        assert t.state.wake_at == now + timedelta(days=days, hours=hours, minutes=minutes)
    else:
        assert (days, hours, minutes) == (0, 0, 0)


@PROPERTY_SETTINGS
@given(contacts, happenings())
def test_photography_journey_invariants(person, script):
    journey = compile_or_skip(photography_journey())
    check_invariants(journey, run(journey, person, script))
