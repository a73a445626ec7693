"""Every built-in trigger type, alone (a context in, a decision out) and under the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from aisle.builtins import triggers as T
from aisle.contracts.events import EventView
from aisle.contracts.triggers import ANY_EVENT, Fire, FireAt, NotYet, TriggerContext, TriggerType
from aisle.engine.core import handle_event, recompute, start, tick
from aisle.engine.validation import decode_config

from .graphs import T0, compiled, contact, edge, event, graph, kinds, step


def ctx(
    trigger: TriggerType,
    config: dict[str, Any] | None = None,
    *,
    ev: tuple[str, dict[str, Any]] | None = None,
    entered_at: datetime = T0,
    now: datetime = T0,
    person: dict[str, Any] | None = None,
    studio: str = "UTC",
    rescheduled_at: datetime | None = None,
    evaluate: Any = None,
    visit: int = 0,
) -> TriggerContext:
    return TriggerContext(
        edge_id="edge-1",
        config=decode_config(trigger.config, config or {}),
        now=now,
        entered_at=entered_at,
        contact=person if person is not None else contact().activation(),
        variables={},
        event=EventView(type=ev[0], payload=ev[1], occurred_at=now, id="e") if ev else None,
        studio_timezone=studio,
        evaluate=evaluate or (lambda expression: False),
        step_id="step-1",
        enrollment_id="en-1",
        rescheduled_at=rescheduled_at,
        visit=visit,
    )


def test_immediate_fires():
    assert T.IMMEDIATE.evaluate(ctx(T.IMMEDIATE)) == Fire()
    assert not T.IMMEDIATE.event_types
    assert not T.IMMEDIATE.time_based


def test_time_delay_counts_from_entry():
    decision = T.TIME_DELAY.evaluate(
        ctx(T.TIME_DELAY, {"days": 3, "hours": 2, "minutes": 5}, now=T0 + timedelta(days=1))
    )
    assert decision == FireAt(at=T0 + timedelta(days=3, hours=2, minutes=5))
    assert T.TIME_DELAY.time_based
    with pytest.raises(msgspec.ValidationError, match="days"):
        decode_config(T.TIME_DELAY.config, {"days": -1})


# -- date_reached ---------------------------------------------------------------------


def test_date_reached_before_the_wedding_in_contact_zone():
    person = contact(wedding=date(2026, 6, 20), tz="America/New_York").activation()
    decision = T.DATE_REACHED.evaluate(ctx(T.DATE_REACHED, {"days": -30}, person=person))
    # 2026-05-21 09:00 EDT.
    assert decision == FireAt(at=datetime(2026, 5, 21, 13, tzinfo=UTC))


def test_date_reached_contact_zone_falls_back_to_studio():
    person = contact(wedding=date(2026, 6, 20), tz=None).activation()
    decision = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {"at": "18:30"}, person=person, studio="Europe/London")
    )
    assert decision == FireAt(at=datetime(2026, 6, 20, 17, 30, tzinfo=UTC))


def test_date_reached_explicit_zone_hours_and_studio():
    person = contact(wedding=date(2026, 6, 20), tz="America/New_York").activation()
    tokyo = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {"zone": "Asia/Tokyo", "days": 1, "hours": -2}, person=person)
    )
    assert tokyo == FireAt(at=datetime(2026, 6, 20, 22, tzinfo=UTC))  # 07:00 JST on the 21st
    studio = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {"zone": "studio"}, person=person, studio="Europe/Paris")
    )
    assert studio == FireAt(at=datetime(2026, 6, 20, 7, tzinfo=UTC))


def test_date_reached_across_spring_forward_new_york():
    # Wedding Saturday 2026-03-14; "6 days before at 09:00" is Sunday 2026-03-08, the
    # day clocks change: 09:00 EDT (UTC-4), not EST.
    person = contact(wedding=date(2026, 3, 14), tz="America/New_York").activation()
    decision = T.DATE_REACHED.evaluate(ctx(T.DATE_REACHED, {"days": -6}, person=person))
    assert decision == FireAt(at=datetime(2026, 3, 8, 13, tzinfo=UTC))
    gap = T.DATE_REACHED.evaluate(ctx(T.DATE_REACHED, {"days": -6, "at": "02:30"}, person=person))
    assert gap == FireAt(at=datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 03:30 EDT


def test_date_reached_london_autumn_ambiguous_hour():
    person = contact(wedding=date(2026, 10, 25), tz="Europe/London").activation()
    decision = T.DATE_REACHED.evaluate(ctx(T.DATE_REACHED, {"at": "01:30"}, person=person))
    assert decision == FireAt(at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # first: BST


def test_date_reached_custom_field_and_missing_dates():
    person = contact(engagement_party="2026-02-14").activation()
    decision = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {"field": "custom.engagement_party", "days": -1}, person=person)
    )
    assert decision == FireAt(at=datetime(2026, 2, 13, 9, tzinfo=UTC))
    none = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {}, person=contact(wedding=None).activation())
    )
    assert none == NotYet(reason="no wedding date")
    missing = T.DATE_REACHED.evaluate(ctx(T.DATE_REACHED, {"field": "custom.rehearsal"}))
    assert missing == NotYet(reason="no custom.rehearsal")
    bad = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {"field": "custom.x"}, person=contact(x="someday").activation())
    )
    assert isinstance(bad, NotYet)
    assert "is not a date" in bad.reason


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("fire_now", Fire()), ("skip", NotYet)],
)
def test_date_reached_past_policy(policy, expected):
    # Entering the step on 2026-06-01 for a "30 days before 2026-06-20" reminder.
    entered = datetime(2026, 6, 1, 12, tzinfo=UTC)
    decision = T.DATE_REACHED.evaluate(
        ctx(T.DATE_REACHED, {"days": -30, "if_past": policy}, entered_at=entered, now=entered)
    )
    if expected is NotYet:
        assert isinstance(decision, NotYet)
        assert "if_past is skip" in decision.reason
    else:
        assert decision == expected


def test_date_reached_late_tick_is_not_past():
    # Scheduled before the moment; the scheduler arrives late: still due, never skipped.
    decision = T.DATE_REACHED.evaluate(
        ctx(
            T.DATE_REACHED,
            {"days": -30, "if_past": "skip"},
            entered_at=T0,
            now=datetime(2026, 5, 25, tzinfo=UTC),
        )
    )
    assert decision == FireAt(at=datetime(2026, 5, 21, 9, tzinfo=UTC))


def test_date_reached_rejects_bad_config():
    for bad, name in [
        ({"zone": "Mars/Base"}, "zone"),
        ({"at": "25:00"}, "at"),
        ({"field": "email"}, "field"),
        ({"if_past": "later"}, "if_past"),
        ({"offset": 3}, "offset"),
    ]:
        with pytest.raises(msgspec.ValidationError, match=name):
            decode_config(T.DATE_REACHED.config, bad)


# -- event triggers -------------------------------------------------------------------


def test_form_submission():
    assert T.FORM_SUBMISSION.event_types == {"form.submitted"}
    any_form = ctx(T.FORM_SUBMISSION, ev=("form.submitted", {"form_id": "enquiry"}))
    assert T.FORM_SUBMISSION.evaluate(any_form) == Fire()
    wanted = {"form_id": "questionnaire"}
    other = ctx(T.FORM_SUBMISSION, wanted, ev=("form.submitted", {"form_id": "enquiry"}))
    assert T.FORM_SUBMISSION.evaluate(other) == NotYet(
        reason="form 'enquiry' is not 'questionnaire'"
    )
    right = ctx(T.FORM_SUBMISSION, wanted, ev=("form.submitted", {"form_id": "questionnaire"}))
    assert T.FORM_SUBMISSION.evaluate(right) == Fire()
    assert isinstance(T.FORM_SUBMISSION.evaluate(ctx(T.FORM_SUBMISSION)), NotYet)
    filtered = ctx(
        T.FORM_SUBMISSION,
        {"filter": "event.payload.guests > 100"},
        ev=("form.submitted", {}),
        evaluate=lambda expression: False,
    )
    assert T.FORM_SUBMISSION.evaluate(filtered) == NotYet(reason="the filter is false")


def test_payment_received():
    config = {"min_amount": "500.00", "currency": "EUR"}
    for payload, fires in [
        ({"amount": "500", "currency": "EUR"}, True),
        ({"amount": 750.5, "currency": "eur"}, True),
        ({"amount": "499.99", "currency": "EUR"}, False),
        ({"amount": "900", "currency": "USD"}, False),
        ({"amount": "lots", "currency": "EUR"}, False),
        ({"amount": True, "currency": "EUR"}, False),
        ({"amount": "NaN", "currency": "EUR"}, False),
        ({"currency": "EUR"}, False),
        ({"amount": "900", "currency": "EUR", "enrollment_id": "someone-else"}, False),
        ({"amount": "900", "currency": "EUR", "enrollment_id": "en-1"}, True),
    ]:
        decision = T.PAYMENT_RECEIVED.evaluate(
            ctx(T.PAYMENT_RECEIVED, config, ev=("payment.received", payload))
        )
        assert (decision == Fire()) is fires, (payload, decision)
    anything = ctx(T.PAYMENT_RECEIVED, ev=("payment.received", {}))
    assert T.PAYMENT_RECEIVED.evaluate(anything) == Fire()
    with pytest.raises(msgspec.ValidationError, match="currency"):
        decode_config(T.PAYMENT_RECEIVED.config, {"currency": "euro"})
    with pytest.raises(msgspec.ValidationError, match="min_amount"):
        decode_config(T.PAYMENT_RECEIVED.config, {"min_amount": "-5"})


def test_task_completed_matches_source_step_or_named_task():
    own = ("task.completed", {"step_id": "step-1", "task_id": "t1"})
    other = ("task.completed", {"step_id": "elsewhere", "task_id": "t2"})
    assert T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, ev=own)) == Fire()
    assert isinstance(T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, ev=other)), NotYet)
    named = ("task.completed", {"step_id": "elsewhere", "title": "Shot list", "kind": "vendor"})
    assert T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, {"title": "Shot list"}, ev=named)) == (
        Fire()
    )
    both = {"title": "Shot list", "kind": "client_action"}
    assert isinstance(T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, both, ev=named)), NotYet)
    foreign = ("task.completed", {"step_id": "step-1", "enrollment_id": "en-2"})
    assert isinstance(T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, ev=foreign)), NotYet)


def test_task_completed_ignores_a_task_from_an_earlier_visit_of_its_step():
    """A loop brought the client back to the step: only this visit's task moves them."""
    current = ("task.completed", {"step_id": "step-1", "visit": 3, "kind": "vendor_action"})
    stale = ("task.completed", {"step_id": "step-1", "visit": 1, "kind": "vendor_action"})
    for config in ({}, {"kind": "vendor_action"}):
        assert T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, config, ev=current, visit=3)) == (
            Fire()
        )
        decision = T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, config, ev=stale, visit=3))
        assert isinstance(decision, NotYet) and "visit 1" in decision.reason
    # Another step's task (a named match) was made on another visit by nature.
    elsewhere = ("task.completed", {"step_id": "before", "visit": 1, "kind": "vendor_action"})
    kind = {"kind": "vendor_action"}
    assert T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, kind, ev=elsewhere, visit=3)) == Fire()
    # Without a visit on either side (older events, hand-written contexts) nothing changes.
    unversioned = ("task.completed", {"step_id": "step-1"})
    assert T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, ev=unversioned, visit=3)) == Fire()
    assert T.TASK_COMPLETED.evaluate(ctx(T.TASK_COMPLETED, ev=stale)) == Fire()


def test_manual_targets_edge_or_step():
    assert T.MANUAL.evaluate(ctx(T.MANUAL, ev=("manual.triggered", {"edge_id": "edge-1"}))) == (
        Fire()
    )
    assert T.MANUAL.evaluate(ctx(T.MANUAL, ev=("manual.triggered", {"step_id": "step-1"}))) == (
        Fire()
    )
    sibling = ("manual.triggered", {"step_id": "step-1", "edge_id": "edge-2"})
    assert isinstance(T.MANUAL.evaluate(ctx(T.MANUAL, ev=sibling)), NotYet)
    assert isinstance(T.MANUAL.evaluate(ctx(T.MANUAL, ev=("manual.triggered", {}))), NotYet)
    assert isinstance(T.MANUAL.evaluate(ctx(T.MANUAL)), NotYet)


def test_condition_and_otherwise():
    assert T.CONDITION.event_types == {ANY_EVENT}
    config = {"expression": "contact.custom.booked"}
    assert T.CONDITION.evaluate(ctx(T.CONDITION, config, evaluate=lambda e: True)) == Fire()
    assert isinstance(T.CONDITION.evaluate(ctx(T.CONDITION, config)), NotYet)
    assert isinstance(T.OTHERWISE.evaluate(ctx(T.OTHERWISE)), NotYet)
    with pytest.raises(msgspec.ValidationError, match="expression"):
        decode_config(T.CONDITION.config, {})


# -- under the engine -----------------------------------------------------------------


def test_each_event_trigger_moves_an_enrollment(builtin_registry):
    cases = [
        ("form_submission", {"form_id": "q"}, event("form.submitted", form_id="q")),
        ("payment_received", {"currency": "GBP"}, event("payment.received", currency="GBP")),
        ("task_completed", {}, event("task.completed", step_id="hold")),
        ("manual", {}, event("manual.triggered", edge_id="go")),
        ("condition", {"expression": "event.payload.ok"}, event("anything.else", ok=True)),
    ]
    for trigger, config, ev in cases:
        g = graph(
            [step("hold", "wait"), step("done", "end")],
            [edge("go", "hold", "done", trigger, **config)],
        )
        journey = compiled(g, builtin_registry)
        state = start(journey, "en1", contact(), T0).state
        assert state.step_id == "hold", trigger
        moved = handle_event(journey, state, contact(), ev, T0 + timedelta(hours=1))
        assert moved.state.status == "completed", trigger
        assert moved.log[0].edge_id == "go"


def test_the_engine_tells_task_completed_which_visit_the_step_is_on(builtin_registry):
    g = graph(
        [
            step("todo", "vendor_action", title="Confirm the timeline", vendor_type="planner"),
            step("done", "end"),
        ],
        [
            edge("finished", "todo", "done", "task_completed"),
            edge("again", "todo", "todo", "manual"),
        ],
        start="todo",
    )
    journey = compiled(g, builtin_registry)
    first = start(journey, "en1", contact(), T0).state
    assert (first.step_id, first.visit) == ("todo", 1)
    later = T0 + timedelta(hours=1)
    back = handle_event(
        journey, first, contact(), event("manual.triggered", edge_id="again"), later
    )
    assert (back.state.step_id, back.state.visit) == ("todo", 2)
    old_task = event("task.completed", id="ev2", step_id="todo", visit=1)
    stays = handle_event(journey, back.state, contact(), old_task, later)
    assert stays.state == back.state
    new_task = event("task.completed", id="ev3", step_id="todo", visit=2)
    moved = handle_event(journey, back.state, contact(), new_task, later)
    assert moved.state.status == "completed" and moved.log[0].edge_id == "finished"


def test_condition_fires_on_entry_when_already_true(builtin_registry):
    g = graph(
        [step("hold", "wait"), step("done", "end")],
        [edge("go", "hold", "done", "condition", expression="contact.custom.vip == true")],
    )
    journey = compiled(g, builtin_registry)
    assert start(journey, "en1", contact(vip=True), T0).state.status == "completed"
    waiting = start(journey, "en1", contact(vip=False), T0)
    assert waiting.state.status == "active"
    assert waiting.state.wake_at is None


def test_date_reached_under_engine_with_skip_and_other_edges(builtin_registry):
    # 30 days before the wedding is already past when the couple books late: with
    # "skip" the reminder edge never fires, and the wedding-day edge still does.
    g = graph(
        [step("hold"), step("reminder", "end", outcome="reminded"), step("day", "end")],
        [
            edge("early", "hold", "reminder", "date_reached", days=-30, if_past="skip"),
            edge("on-day", "hold", "day", "date_reached", at="08:00"),
        ],
    )
    journey = compiled(g, builtin_registry, tz="Europe/London")
    late = datetime(2026, 6, 1, 12, tzinfo=UTC)
    t = start(journey, "en1", contact(wedding=date(2026, 6, 20)), late)
    assert t.state.wake_at == datetime(2026, 6, 20, 7, tzinfo=UTC)
    done = tick(journey, t.state, contact(wedding=date(2026, 6, 20)), t.state.wake_at)
    assert done.state.outcome == "completed"
    assert done.log[0].edge_id == "on-day"


def test_recompute_after_wedding_moves(builtin_registry):
    g = graph(
        [step("hold"), step("done", "end")],
        [edge("questionnaire", "hold", "done", "date_reached", days=-30, if_past="skip")],
    )
    journey = compiled(g, builtin_registry)
    original = contact(wedding=date(2026, 6, 20))
    state = start(journey, "en1", original, T0).state
    assert state.wake_at == datetime(2026, 5, 21, 9, tzinfo=UTC)

    # Postponed by a month: the wake-up moves with it, nothing fires.
    later = contact(wedding=date(2026, 7, 20))
    moved = recompute(journey, state, later, T0 + timedelta(days=10))
    assert moved.state.wake_at == datetime(2026, 6, 20, 9, tzinfo=UTC)
    assert moved.state.step_id == "hold"
    assert moved.actions == ()
    assert kinds(moved.log) == ["wake.rescheduled"]
    assert moved.log[0].data == {
        "wake_at": "2026-06-20T09:00:00+00:00",
        "previous": "2026-05-21T09:00:00+00:00",
    }
    # Unchanged date: nothing logged.
    same = recompute(journey, moved.state, later, T0 + timedelta(days=11))
    assert same.log == ()
    assert same.state.wake_at == moved.state.wake_at

    # Brought forward so that "30 days before" is already past on 2026-05-10: skip.
    sooner = contact(wedding=date(2026, 5, 25))
    on = datetime(2026, 5, 10, tzinfo=UTC)
    skipped = recompute(journey, moved.state, sooner, on)
    assert skipped.state.wake_at is None
    assert skipped.state.rescheduled_at == on
    assert kinds(skipped.log) == ["wake.rescheduled"]
    # …and a later tick agrees (it judges "past" from the recompute, not the entry).
    assert tick(journey, skipped.state, sooner, on + timedelta(days=1)).state.status == "active"


def test_recompute_into_the_past_with_fire_now_is_due_next_tick(builtin_registry):
    g = graph(
        [step("hold"), step("done", "end")],
        [edge("q", "hold", "done", "date_reached", days=-30)],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(wedding=date(2026, 6, 20)), T0).state
    on = datetime(2026, 5, 10, tzinfo=UTC)
    sooner = contact(wedding=date(2026, 5, 25))
    t = recompute(journey, state, sooner, on)
    assert t.state.status == "active"  # recompute never fires
    assert t.state.wake_at == on
    assert tick(journey, t.state, sooner, on).state.status == "completed"


def test_recompute_when_already_due_leaves_it_to_tick(builtin_registry):
    g = graph(
        [step("hold"), step("done", "end")],
        [edge("q", "hold", "done", "date_reached", days=-30, if_past="skip")],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(wedding=date(2026, 6, 20)), T0).state
    behind = state.wake_at + timedelta(minutes=5)  # the scheduler has not ticked yet
    t = recompute(journey, state, contact(wedding=date(2026, 6, 21)), behind)
    assert t.state == state
    assert tick(journey, state, contact(wedding=date(2026, 6, 20)), behind).state.status == (
        "completed"
    )


def test_recompute_losing_the_date_clears_the_wake(builtin_registry):
    g = graph(
        [step("hold"), step("done", "end")],
        [edge("q", "hold", "done", "date_reached")],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    t = recompute(journey, state, contact(wedding=None), T0 + timedelta(days=1))
    assert t.state.wake_at is None
    assert t.log[0].data["previous"] == "2026-06-20T09:00:00+00:00"
