"""Simulation of a realistic photography journey on a virtual clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from aisle.engine.simulation import ScriptedEvent, simulate
from aisle.engine.validation import validate

from .graphs import compiled, contact
from .photography import photography_journey

START = datetime(2026, 1, 5, 10, tzinfo=UTC)
HORIZON = timedelta(days=365)
ENQUIRY = ScriptedEvent(at=START, type="form.submitted", payload={"form_id": "enquiry"})


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def journey(builtin_registry):
    g = photography_journey()
    assert validate(g, builtin_registry) == []
    return compiled(g, builtin_registry, tz="Europe/London")


def booked_couple(**extra):
    return contact(wedding=date(2026, 6, 20), tz="Europe/London", booked=True, **extra)


def test_booked_couple_goes_all_the_way(journey):
    script = [
        ScriptedEvent(
            at=at(1, 10), type="payment.received", payload={"amount": "500", "currency": "EUR"}
        ),
        ScriptedEvent(at=at(5, 25), type="form.submitted", payload={"form_id": "questionnaire"}),
        ScriptedEvent(at=at(6, 1), type="task.completed", payload={"step_id": "shot_list"}),
    ]
    timeline = simulate(journey, booked_couple(), script, START, HORIZON, entry=ENQUIRY)
    assert timeline.path == [
        "brochure",
        "pause",
        "booked",
        "deposit",
        "until_questionnaire",
        "questionnaire",
        "shot_list",
        "until_week",
        "see_you",
        "delivered",
    ]
    sent = [(e.at, e.step_id, e.executor) for e in timeline.sent]
    assert sent == [
        (START, "brochure", "email"),
        (START + timedelta(days=3), "deposit", "task"),
        # 30 days before 2026-06-20 at 09:00 London (BST) is 08:00 UTC.
        (datetime(2026, 5, 21, 8, tzinfo=UTC), "questionnaire", "task"),
        (at(5, 25), "shot_list", "task"),
        (datetime(2026, 6, 13, 8, tzinfo=UTC), "see_you", "email"),
    ]
    questionnaire = timeline.sent[2]
    assert questionnaire.config is not None
    assert questionnaire.config["required_approvals"] == 2
    assert questionnaire.config["due_at"] == "2026-05-30T16:00:00+00:00"  # 17:00 BST
    assert timeline.state.status == "completed"
    assert timeline.state.outcome == "delivered"
    # Waits are visible with their wake-up times.
    waits = [(e.step_id, e.data["wake_at"]) for e in timeline.entries if e.kind == "wait"]
    assert ("pause", "2026-01-08T10:00:00+00:00") in waits
    assert ("until_questionnaire", "2026-05-21T08:00:00+00:00") in waits
    # Every idempotency key is distinct.
    keys = [a.idempotency_key for a in timeline.actions]
    assert len(keys) == len(set(keys)) == 5


def test_unbooked_couple_gets_a_follow_up(journey):
    timeline = simulate(journey, contact(booked=False), [], START, HORIZON, entry=ENQUIRY)
    assert timeline.path == ["brochure", "pause", "booked", "follow_up", "lost"]
    assert timeline.state.outcome == "lost"
    assert [e.step_id for e in timeline.sent] == ["brochure", "follow_up"]


def test_missing_field_is_a_warning_and_takes_otherwise(journey):
    timeline = simulate(journey, contact(), [], START, HORIZON)
    assert timeline.state.outcome == "lost"
    [warning] = [e for e in timeline.entries if e.kind == "warning"]
    assert warning.step_id == "booked"
    assert "booked" in warning.message


def test_late_deposit_after_reminder(journey):
    script = [
        ScriptedEvent(
            at=at(1, 20), type="payment.received", payload={"amount": "500", "currency": "EUR"}
        )
    ]
    timeline = simulate(journey, booked_couple(), script, START, timedelta(days=60))
    assert timeline.path[3:6] == ["deposit", "reminder", "awaiting"]
    assert timeline.path[-1] == "until_questionnaire"
    reminder = next(e for e in timeline.sent if e.step_id == "reminder")
    assert reminder.at == START + timedelta(days=10)
    # The horizon ends before the questionnaire: still active, waiting.
    assert timeline.state.status == "active"
    assert timeline.state.wake_at == datetime(2026, 5, 21, 8, tzinfo=UTC)


def test_no_deposit_gives_up(journey):
    timeline = simulate(journey, booked_couple(), [], START, HORIZON)
    assert timeline.state.outcome == "no_deposit"
    assert timeline.entries[-1].at == START + timedelta(days=3 + 7 + 14)


def test_small_payment_is_ignored_and_shown(journey):
    script = [
        ScriptedEvent(
            at=at(1, 9), type="payment.received", payload={"amount": "50", "currency": "EUR"}
        )
    ]
    timeline = simulate(journey, booked_couple(), script, START, timedelta(days=9))
    ignored = [e for e in timeline.entries if e.kind == "ignored"]
    assert len(ignored) == 1
    assert ignored[0].data["reasons"] == {"e-paid": "amount 50 is below 500.00"}


def test_exit_ends_the_timeline(journey):
    script = [ScriptedEvent(at=at(1, 20), type="booking.cancelled")]
    timeline = simulate(journey, booked_couple(), script, START, HORIZON)
    assert timeline.entries[-1].kind == "exited"
    assert timeline.state.outcome == "cancelled"


def test_wedding_moved_during_simulation(journey):
    moved = booked_couple()
    moved = msgspec.structs.replace(moved, wedding_date=date(2026, 9, 12))
    script = [
        ScriptedEvent(
            at=at(1, 10), type="payment.received", payload={"amount": "500", "currency": "EUR"}
        ),
        ScriptedEvent(at=at(3, 1), type="contact.updated", contact=moved),
    ]
    timeline = simulate(journey, booked_couple(), script, START, HORIZON)
    rescheduled = [e for e in timeline.entries if e.kind == "wait" and e.at == at(3, 1)]
    assert rescheduled[0].data["wake_at"] == "2026-08-13T08:00:00+00:00"
    questionnaire = next(e for e in timeline.sent if e.step_id == "questionnaire")
    assert questionnaire.at == datetime(2026, 8, 13, 8, tzinfo=UTC)


def test_deterministic_and_side_effect_free(journey):
    first = simulate(journey, booked_couple(), [], START, HORIZON, entry=ENQUIRY)
    second = simulate(journey, booked_couple(), [], START, HORIZON, entry=ENQUIRY)
    assert first == second
    assert msgspec.json.encode(first) == msgspec.json.encode(second)


def test_bad_inputs(journey):
    with pytest.raises(ValueError, match="before the simulation starts"):
        simulate(journey, booked_couple(), [ScriptedEvent(at=at(1, 1), type="x")], START, HORIZON)
    with pytest.raises(ValueError, match="timezone-aware"):
        simulate(journey, booked_couple(), [], datetime(2026, 1, 1), HORIZON)
    with pytest.raises(ValueError, match="horizon"):
        simulate(journey, booked_couple(), [], START, timedelta(days=-1))


def test_zero_horizon_only_shows_entry(journey):
    timeline = simulate(journey, booked_couple(), [], START, timedelta(0))
    assert timeline.path == ["brochure", "pause"]
    assert timeline.state.status == "active"
