"""The engine's semantics: entering steps, chaining, waiting, events, exits, loops."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from aisle.contracts.nodes import Advance, Complete, Fail, NodeType, Stay
from aisle.contracts.triggers import TriggerType
from aisle.domain import EntryCriteria, ExitCriteria
from aisle.engine.core import handle_event, matches_entry, may_enroll, start, tick

from .graphs import T0, compiled, contact, edge, event, graph, kinds, step


def email(id: str, subject: str = "Hello") -> dict[str, object]:
    return {"subject": subject, "text": "Body of " + id}


def test_start_enters_start_step_and_chains_immediate_edges(builtin_registry):
    g = graph(
        [
            step("hello", "email", **email("hello")),
            step("pause", "wait"),
            step("done", "end"),
        ],
        [
            edge("e1", "hello", "pause"),
            edge("e2", "pause", "done", "time_delay", days=2),
        ],
        start="hello",
    )
    t = start(compiled(g, builtin_registry), "en1", contact(), T0)
    assert kinds(t.log) == [
        "enrollment.started",
        "step.entered",
        "action.planned",
        "edge.taken",
        "step.entered",
        "wake.scheduled",
    ]
    assert t.state.status == "active"
    assert t.state.step_id == "pause"
    assert t.state.visit == 2
    assert t.state.entered_at == T0
    assert t.state.wake_at == T0 + timedelta(days=2)
    [action] = t.actions
    assert action.idempotency_key == "en1:1:hello:main"
    assert action.executor == "email"
    assert action.step_id == "hello"
    assert action.config["recipients"] == ["ada@example.com", "bea@example.com"]


def test_tick_before_due_only_reschedules_and_after_due_moves_on(builtin_registry):
    g = graph(
        [step("pause", "wait"), step("done", "end", outcome="booked")],
        [edge("e", "pause", "done", "time_delay", hours=5)],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    early = tick(journey, state, contact(), T0 + timedelta(hours=1))
    assert early.state == state
    assert early.log == ()
    due = tick(journey, state, contact(), T0 + timedelta(hours=5))
    assert due.state.status == "completed"
    assert due.state.outcome == "booked"
    assert due.state.wake_at is None
    assert kinds(due.log) == ["edge.taken", "step.entered", "enrollment.completed"]


def test_late_tick_still_fires(builtin_registry):
    g = graph(
        [step("pause", "wait"), step("done", "end")],
        [edge("e", "pause", "done", "time_delay", minutes=30)],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    assert tick(journey, state, contact(), T0 + timedelta(days=9)).state.status == "completed"


def test_earliest_fire_at_wins_and_priority_orders_due_edges(builtin_registry):
    g = graph(
        [step("pause"), step("a", "end", outcome="a"), step("b", "end", outcome="b")],
        [
            edge("slow", "pause", "a", "time_delay", days=3),
            edge("fast", "pause", "b", "time_delay", days=1),
        ],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    assert state.wake_at == T0 + timedelta(days=1)
    # Both due at once: the higher priority (then the id) wins.
    g2 = graph(
        [step("pause"), step("a", "end", outcome="a"), step("b", "end", outcome="b")],
        [
            edge("x-low", "pause", "a", "time_delay", days=1),
            edge("y-high", "pause", "b", "time_delay", days=1, priority=5),
        ],
    )
    j2 = compiled(g2, builtin_registry)
    s2 = start(j2, "en1", contact(), T0).state
    done = tick(j2, s2, contact(), T0 + timedelta(days=4))
    assert done.state.outcome == "b"


def test_zero_delay_is_due_on_entry(builtin_registry):
    g = graph(
        [step("pause"), step("done", "end")],
        [edge("e", "pause", "done", "time_delay")],
    )
    t = start(compiled(g, builtin_registry), "en1", contact(), T0)
    assert t.state.status == "completed"


def test_dead_end_completes_with_outcome(builtin_registry):
    g = graph([step("hello", "email", **email("hello"))], [])
    t = start(compiled(g, builtin_registry), "en1", contact(), T0)
    assert t.state.status == "completed"
    assert t.state.outcome == "dead_end"
    assert "step.dead_end" in kinds(t.log)
    assert len(t.actions) == 1


def test_event_moves_along_listening_edge_only(builtin_registry):
    g = graph(
        [step("ask", "wait"), step("yes", "end", outcome="paid"), step("no", "end")],
        [
            edge("paid", "ask", "yes", "payment_received", min_amount="100"),
            edge("late", "ask", "no", "time_delay", days=10),
        ],
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    form = handle_event(journey, state, contact(), event("form.submitted"), T0)
    assert form.state == state
    assert form.log == ()  # nobody listens: nothing to say
    small = handle_event(journey, state, contact(), event("payment.received", amount=50), T0)
    assert small.state == state
    assert kinds(small.log) == ["event.ignored"]
    assert small.log[0].data["reasons"] == {"paid": "amount 50 is below 100"}
    paid = handle_event(journey, state, contact(), event("payment.received", amount="100.00"), T0)
    assert paid.state.status == "completed"
    assert paid.state.outcome == "paid"
    taken = paid.log[0]
    assert taken.kind == "edge.taken"
    assert taken.edge_id == "paid"
    assert taken.data["event_id"] == "ev1"


def test_events_for_inactive_enrollments_do_nothing(builtin_registry):
    g = graph([step("done", "end")], [])
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    assert state.status == "completed"
    t = handle_event(journey, state, contact(), event("payment.received"), T0)
    assert t.state is state
    assert not t.changed
    assert tick(journey, state, contact(), T0).state is state


def test_exit_criteria_run_before_step_triggers(builtin_registry):
    exits = (
        ExitCriteria(
            event_type="payment.received", filter="event.payload.refund == true", name="refund"
        ),
        ExitCriteria(event_type="booking.confirmed", goal=True, name="booked"),
    )
    g = graph(
        [step("ask"), step("yes", "end")],
        [edge("paid", "ask", "yes", "payment_received")],
        exits=exits,
    )
    journey = compiled(g, builtin_registry)
    state = start(journey, "en1", contact(), T0).state
    refund = handle_event(journey, state, contact(), event("payment.received", refund=True), T0)
    assert refund.state.status == "exited"
    assert refund.state.outcome == "refund"
    assert kinds(refund.log) == ["exit.matched", "enrollment.exited"]
    goal = handle_event(journey, state, contact(), event("booking.confirmed"), T0)
    assert goal.state.status == "completed"
    assert goal.state.outcome == "goal"
    # The filter is false for an ordinary payment: the step's trigger takes it.
    paid = handle_event(journey, state, contact(), event("payment.received", refund=False), T0)
    assert paid.state.status == "completed"
    assert paid.state.outcome == "completed"
    # A payload without the field: the filter errors, counts as false, and is logged.
    plain = handle_event(journey, state, contact(), event("payment.received"), T0)
    assert plain.state.outcome == "completed"
    assert kinds(plain.log)[0] == "condition.error"


def test_matches_entry(builtin_registry):
    g = graph(
        [step("a", "end")],
        [],
        entry=EntryCriteria(event_type="form.submitted", filter='event.payload.form == "enquiry"'),
    )
    journey = compiled(g, builtin_registry)
    assert matches_entry(journey, contact(), event("form.submitted", form="enquiry"))
    assert not matches_entry(journey, contact(), event("form.submitted", form="other"))
    assert not matches_entry(journey, contact(), event("form.submitted"))  # error → false
    assert not matches_entry(journey, contact(), event("payment.received", form="enquiry"))
    manual_only = compiled(graph([step("a", "end")], []), builtin_registry)
    assert not matches_entry(manual_only, contact(), event("form.submitted"))


def test_matches_entry_sees_contact(builtin_registry):
    g = graph(
        [step("a", "end")],
        [],
        entry=EntryCriteria(event_type="contact.created", filter="contact.wedding_date != null"),
    )
    journey = compiled(g, builtin_registry)
    assert matches_entry(journey, contact(), event("contact.created"))
    assert not matches_entry(journey, contact(wedding=None), event("contact.created"))


@pytest.mark.parametrize(
    ("policy", "previous", "allowed"),
    [
        ("once", [], True),
        ("once", ["completed"], False),
        ("after_completion", [], True),
        ("after_completion", ["completed", "exited", "failed"], True),
        ("after_completion", ["completed", "active"], False),
        ("always", ["active"], True),
    ],
)
def test_may_enroll(policy, previous, allowed):
    assert may_enroll(policy, previous) is allowed


def test_loop_bound_fails_naming_the_loop(builtin_registry):
    # A loop the validator would refuse can only be built around it; the engine must
    # still stop: a custom trigger fires at once but does not look instant.
    looping = TriggerType(
        name="always_now",
        evaluate=lambda ctx: __import__("aisle").Fire(),
        event_types=frozenset({"never.sent"}),
    )
    registry = _with(builtin_registry, triggers=[looping])
    g = graph(
        [step("a", "wait"), step("b", "wait"), step("c", "wait")],
        [
            edge("ab", "a", "b", "always_now"),
            edge("bc", "b", "c", "always_now"),
            edge("cb", "c", "b", "always_now"),
        ],
        start="a",
        max_transitions=7,
    )
    t = start(compiled(g, registry), "en1", contact(), T0)
    assert t.state.status == "failed"
    assert t.state.error is not None
    assert "more than 7 transitions" in t.state.error
    assert "a loop through steps 'c' → 'b' → 'c'" in t.state.error
    assert kinds(t.log).count("edge.taken") == 7
    assert t.log[-1].kind == "enrollment.failed"


def test_decision_branches_by_priority_then_otherwise(builtin_registry):
    g = graph(
        [
            step("d", "decision"),
            step("vip", "end", outcome="vip"),
            step("booked", "end", outcome="booked"),
            step("other", "end", outcome="other"),
        ],
        [
            edge("e-booked", "d", "booked", "condition", expression="contact.custom.booked"),
            edge(
                "e-vip",
                "d",
                "vip",
                "condition",
                priority=10,
                expression="contact.custom.budget > 10000",
            ),
            edge("e-else", "d", "other", "otherwise", handle="otherwise"),
        ],
    )
    journey = compiled(g, builtin_registry)
    assert start(journey, "x", contact(booked=True, budget=20000), T0).state.outcome == "vip"
    assert start(journey, "x", contact(booked=True, budget=500), T0).state.outcome == "booked"
    assert start(journey, "x", contact(booked=False, budget=1), T0).state.outcome == "other"
    # Missing fields: errors count as false, are logged, and the fallback is taken.
    t = start(journey, "x", contact(), T0)
    assert t.state.outcome == "other"
    errors = [r for r in t.log if r.kind == "condition.error"]
    assert [r.step_id for r in errors] == ["d", "d"]
    assert "no such key" in errors[0].message


def test_decision_without_match_or_otherwise_fails(builtin_registry):
    g = graph(
        [step("d", "decision"), step("yes", "end")],
        [edge("e", "d", "yes", "condition", expression="contact.custom.booked == true")],
    )
    t = start(compiled(g, builtin_registry), "x", contact(booked=False), T0)
    assert t.state.status == "failed"
    assert "decision 'd'" in (t.state.error or "")


def test_idempotency_keys_stable_on_replay_and_distinct_per_visit(builtin_registry):
    # The same email step is entered on every manual re-run.
    g = graph(
        [step("hello", "email", **email("hello")), step("hold", "wait")],
        [edge("e1", "hello", "hold"), edge("again", "hold", "hello", "manual")],
        start="hello",
    )
    journey = compiled(g, builtin_registry)
    first = start(journey, "en1", contact(), T0)
    assert first == start(journey, "en1", contact(), T0)  # a replay is identical
    again = handle_event(
        journey, first.state, contact(), event("manual.triggered", edge_id="again"), T0
    )
    keys = [a.idempotency_key for a in (*first.actions, *again.actions)]
    assert keys == ["en1:1:hello:main", "en1:3:hello:main"]


def _with(registry, *, nodes=(), triggers=()):
    """A copy of ``registry`` with extra node and trigger types (tests only)."""
    from dataclasses import replace
    from types import MappingProxyType

    return replace(
        registry,
        node_types=MappingProxyType({**registry.node_types, **{n.name: n for n in nodes}}),
        trigger_types=MappingProxyType({**registry.trigger_types, **{t.name: t for t in triggers}}),
    )


def test_broken_node_types_fail_the_enrollment_not_the_engine(builtin_registry):
    def boom(ctx):
        raise KeyError("oops")

    nodes = [
        NodeType(name="boom", on_enter=boom),
        NodeType(name="liar", on_enter=lambda ctx: "stay"),
        NodeType(name="wander", on_enter=lambda ctx: Advance(edge_id="nowhere")),
        NodeType(name="twice", on_enter=lambda ctx: Stay(actions=[_req(), _req()])),
        NodeType(name="unstorable", on_enter=lambda ctx: Stay(actions=[_req(object())])),
        NodeType(name="refuse", on_enter=lambda ctx: Fail(reason="no venue")),
    ]
    registry = _with(builtin_registry, nodes=nodes)
    expected = {
        "boom": "step 's' (boom) raised KeyError: 'oops'",
        "liar": "returned str, not Stay, Advance, Complete or Fail",
        "wander": "chose edge 'nowhere', which does not leave it",
        "twice": "two actions with the key 'main'",
        "unstorable": "config cannot be stored",
        "refuse": "step 's' (refuse) failed: no venue",
    }
    for name, message in expected.items():
        g = graph([step("s", name), step("t", "end")], [edge("e", "s", "t", "manual")])
        t = start(compiled(g, registry), "en1", contact(), T0)
        assert t.state.status == "failed", name
        assert message in (t.state.error or ""), (name, t.state.error)
        assert t.log[-1].kind == "enrollment.failed"
        assert t.actions == ()


def test_broken_trigger_types_fail_naming_the_edge(builtin_registry):
    from datetime import datetime

    from aisle.contracts.triggers import FireAt

    triggers = [
        TriggerType(name="crash", evaluate=lambda ctx: 1 / 0),
        TriggerType(name="naive", evaluate=lambda ctx: FireAt(at=datetime(2030, 1, 1))),
        TriggerType(name="odd", evaluate=lambda ctx: True),
    ]
    registry = _with(builtin_registry, triggers=triggers)
    for name, message in {
        "crash": "edge 'e' (crash) raised ZeroDivisionError",
        "naive": "naive time",
        "odd": "returned bool, not Fire, FireAt or NotYet",
    }.items():
        g = graph([step("s"), step("t", "end")], [edge("e", "s", "t", name)])
        t = start(compiled(g, registry), "en1", contact(), T0)
        assert t.state.status == "failed"
        assert message in (t.state.error or ""), t.state.error


def test_complete_from_non_terminal_node_and_actions_kept(builtin_registry):
    node = NodeType(name="finish", on_enter=lambda ctx: Complete(actions=[_req()], outcome="won"))
    registry = _with(builtin_registry, nodes=[node])
    g = graph([step("s", "finish")], [])
    t = start(compiled(g, registry), "en1", contact(), T0)
    assert t.state.outcome == "won"
    assert [a.idempotency_key for a in t.actions] == ["en1:1:s:main"]


def test_state_for_missing_step_fails_clearly(builtin_registry):
    g = graph([step("s"), step("t", "end")], [edge("e", "s", "t", "manual")])
    journey = compiled(g, builtin_registry)
    state = msgspec.structs.replace(start(journey, "en1", contact(), T0).state, step_id="gone")
    t = tick(journey, state, contact(), T0)
    assert t.state.status == "failed"
    assert "step 'gone'" in (t.state.error or "")


def test_naive_now_is_refused(builtin_registry):
    from datetime import datetime

    g = graph([step("s", "end")], [])
    with pytest.raises(ValueError, match="timezone-aware"):
        start(compiled(g, builtin_registry), "en1", contact(), datetime(2026, 1, 1))


def test_start_passes_entry_event_to_first_node(builtin_registry):
    seen = []

    def remember(ctx):
        seen.append((ctx.event.type if ctx.event else None, ctx.visit, ctx.enrollment_id))
        return Stay()

    registry = _with(builtin_registry, nodes=[NodeType(name="remember", on_enter=remember)])
    g = graph([step("s", "remember"), step("t", "end")], [edge("e", "s", "t", "manual")])
    start(compiled(g, registry), "en9", contact(), T0, event("form.submitted"))
    assert seen == [("form.submitted", 1, "en9")]


def _req(config: object = None):
    from aisle.contracts.nodes import ActionRequest

    return ActionRequest(executor="task", config={"x": config} if config is not None else {})


def test_decision_without_edges_is_a_dead_end(builtin_registry):
    t = start(compiled(graph([step("d", "decision")], []), builtin_registry), "x", contact(), T0)
    assert (t.state.status, t.state.outcome) == ("completed", "dead_end")
