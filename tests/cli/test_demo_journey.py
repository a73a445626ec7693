"""The demo journey: valid, complete in its use of the built-ins, and walkable end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from aisle.builtins.nodes import NODE_TYPES
from aisle.builtins.triggers import TRIGGER_TYPES
from aisle.contracts.registry import Registry
from aisle.demo import DEMO_JOURNEY_NAME, demo_contacts, demo_journey
from aisle.domain import Contact
from aisle.engine.core import compile_journey
from aisle.engine.simulation import ScriptedEvent, simulate
from aisle.engine.validation import validate

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENQUIRY = ScriptedEvent(at=START, type="form.submitted", payload={"form_id": "enquiry"})


def test_the_demo_journey_validates_without_errors_or_warnings(registry: Registry) -> None:
    assert validate(demo_journey(), registry) == []
    assert DEMO_JOURNEY_NAME == "Wedding photography client journey"


def test_every_required_node_type_and_every_built_in_trigger_type_is_used() -> None:
    graph = demo_journey()
    required_nodes = {
        "vendor_action", "client_action", "decision", "email", "payment", "wait", "end"
    }  # fmt: skip
    assert required_nodes <= {n.name for n in NODE_TYPES}
    assert required_nodes <= {step.type for step in graph.steps}
    assert {edge.trigger for edge in graph.edges} == {t.name for t in TRIGGER_TYPES}


def _couple(booked: bool | None) -> Contact:
    contact = demo_contacts(START.date())[0]
    custom = {} if booked is None else {"booked": booked}
    return msgspec.structs.replace(contact, id="c1", custom=custom)


def test_a_booked_couple_goes_all_the_way_to_the_wedding(registry: Registry) -> None:
    journey = compile_journey(demo_journey(), registry, journey_id="demo", version=1)
    contact = _couple(booked=True)
    assert contact.wedding_date is not None
    script = [
        ScriptedEvent(
            at=START + timedelta(days=4),
            type="payment.received",
            payload={"amount": "500.00", "currency": "GBP"},
        ),
        ScriptedEvent(
            at=START + timedelta(days=20),
            type="form.submitted",
            payload={"form_id": "questionnaire"},
        ),
        ScriptedEvent(
            at=START + timedelta(days=25),
            type="task.completed",
            payload={"step_id": "shot_list"},
        ),
    ]
    timeline = simulate(journey, contact, script, START, timedelta(days=60), entry=ENQUIRY)
    assert timeline.path == [
        "send_brochure",
        "wait_for_reply",
        "is_booked",
        "request_deposit",
        "until_questionnaire",
        "questionnaire",
        "shot_list",
        "until_week_before",
        "see_you_soon",
        "done",
    ]
    assert timeline.state.status == "completed"
    sent = [(e.step_id, e.executor) for e in timeline.sent]
    assert sent == [
        ("send_brochure", "email"),
        ("request_deposit", "task"),
        ("questionnaire", "task"),
        ("shot_list", "task"),
        ("see_you_soon", "email"),
    ]
    # "See you soon" goes out 7 days before the wedding at 10:00 London time (BST: 09:00 UTC).
    see_you_soon = next(e for e in timeline.sent if e.step_id == "see_you_soon")
    assert see_you_soon.at == datetime.combine(
        contact.wedding_date - timedelta(days=7), datetime.min.time(), UTC
    ) + timedelta(hours=9)


@pytest.mark.parametrize("booked", [False, None])
def test_a_couple_that_has_not_booked_gets_a_follow_up(
    registry: Registry, booked: bool | None
) -> None:
    journey = compile_journey(demo_journey(), registry, journey_id="demo", version=1)
    timeline = simulate(journey, _couple(booked), [], START, timedelta(days=10), entry=ENQUIRY)
    assert timeline.path[-3:] == ["is_booked", "follow_up", "not_booked"]
    assert timeline.state.outcome == "not_booked"
    follow_up = next(e for e in timeline.sent if e.step_id == "follow_up")
    assert follow_up.at == START + timedelta(days=3)


def test_the_couple_can_be_moved_on_by_hand_before_three_days(registry: Registry) -> None:
    journey = compile_journey(demo_journey(), registry, journey_id="demo", version=1)
    replied = ScriptedEvent(
        at=START + timedelta(hours=5),
        type="manual.triggered",
        payload={"edge_id": "wait_for_reply-manual-is_booked"},
    )
    timeline = simulate(journey, _couple(True), [replied], START, timedelta(days=1), entry=ENQUIRY)
    assert timeline.state.step_id == "request_deposit"


def test_withdrawing_the_enquiry_exits_the_journey(registry: Registry) -> None:
    journey = compile_journey(demo_journey(), registry, journey_id="demo", version=1)
    withdraw = ScriptedEvent(
        at=START + timedelta(days=1), type="form.submitted", payload={"form_id": "withdraw"}
    )
    timeline = simulate(journey, _couple(True), [withdraw], START, timedelta(days=5), entry=ENQUIRY)
    assert timeline.state.status == "exited"
