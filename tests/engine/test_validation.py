"""Static validation: each issue code, located by node, edge and field."""

from __future__ import annotations

import pytest

from aisle.domain import EntryCriteria, ExitCriteria
from aisle.engine.core import compile_journey
from aisle.engine.validation import InvalidJourney, Issue, validate

from .graphs import compiled, edge, graph, step


def codes(issues: list[Issue]) -> set[tuple[str, str | None, str | None, str | None]]:
    return {(i.code, i.node_id, i.edge_id, i.field) for i in issues}


def test_a_good_journey_has_no_issues(builtin_registry):
    g = graph(
        [step("a", "email", subject="Hi", text="x"), step("b", "end")],
        [edge("ab", "a", "b")],
    )
    assert validate(g, builtin_registry) == []
    journey = compiled(g, builtin_registry)
    assert journey.start_step == "a"  # inferred: the only step nobody points to


def test_empty_duplicate_and_unknown(builtin_registry):
    assert codes(validate(graph([], []), builtin_registry)) == {("empty_journey", None, None, None)}
    g = graph(
        [step("a"), step("a", "end"), step("x", "teleport")],
        [
            edge("e", "a", "x", "wormhole"),
            edge("e", "a", "x"),
        ],
        start="a",
    )
    found = codes(validate(g, builtin_registry))
    assert ("duplicate_step_id", "a", None, None) in found
    assert ("duplicate_edge_id", None, "e", None) in found
    assert ("unknown_node_type", "x", None, "type") in found
    assert ("unknown_trigger_type", None, "e", "trigger") in found


def test_invalid_config_names_the_field(builtin_registry):
    g = graph(
        [
            step("task", "vendor_action", vendor_type="dj", title="x", due={"dayz": 1}),
            step("pay", "payment", amount="ten", currency="EUR"),
            step("mail", "email", subject="Hi"),
            step("end", "end", colour="red"),
        ],
        [
            edge("t1", "task", "pay", "time_delay", days="3"),
            edge("t2", "pay", "mail", "date_reached", zone="Mars/Base"),
            edge("t3", "mail", "end", "condition"),
        ],
        start="task",
    )
    found = {(i.node_id or i.edge_id, i.field) for i in validate(g, builtin_registry)}
    assert found == {
        ("task", "due.dayz"),
        ("pay", "amount"),
        ("mail", "subject"),
        ("end", "colour"),
        ("t1", "days"),
        ("t2", "zone"),
        ("t3", "expression"),
    }
    issue = next(i for i in validate(g, builtin_registry) if i.node_id == "pay")
    assert issue.code == "invalid_config"
    assert issue.severity == "error"
    assert "step 'pay'" in issue.message
    assert "$" not in issue.message


def test_start_step_problems(builtin_registry):
    unknown = graph([step("a", "end")], [], start="zzz")
    assert codes(validate(unknown, builtin_registry)) == {
        ("unknown_start_step", "zzz", None, "settings.start_step")
    }
    two_roots = graph([step("a", "end"), step("b", "end")], [])
    [issue] = validate(two_roots, builtin_registry)
    assert issue.code == "missing_start_step"
    assert "'a', 'b'" in issue.message
    ring = graph(
        [step("a"), step("b")],
        [edge("ab", "a", "b", "manual"), edge("ba", "b", "a", "manual")],
    )
    assert {i.code for i in validate(ring, builtin_registry)} == {"missing_start_step"}


def test_dangling_unreachable_and_dead_ends(builtin_registry):
    g = graph(
        [step("a"), step("b", "email", subject="s", text="t"), step("island", "end")],
        [edge("ab", "a", "b", "manual"), edge("lost", "a", "ghost", "manual")],
        start="a",
    )
    found = codes(validate(g, builtin_registry))
    assert found == {
        ("dangling_edge", None, "lost", "target"),
        ("unreachable_step", "island", None, None),
        ("dead_end", "b", None, None),
    }
    severities = {i.code: i.severity for i in validate(g, builtin_registry)}
    assert severities["dangling_edge"] == "error"
    assert severities["unreachable_step"] == "warning"
    assert severities["dead_end"] == "warning"


def test_cycle_without_wait_lists_its_steps_and_edges(builtin_registry):
    g = graph(
        [step("a"), step("b", "email", subject="s", text="t"), step("c", "decision")],
        [
            edge("ab", "a", "b", "manual"),
            edge("bc", "b", "c"),
            edge("cb", "c", "b", "condition", expression="true"),
            edge("c-out", "c", "a", "otherwise"),
        ],
        start="a",
    )
    cycles = [i for i in validate(g, builtin_registry) if i.code == "cycle_without_wait"]
    # b → c → b fires at once; a → … → a waits on a manual trigger, so it is fine.
    assert len(cycles) == 1
    [cycle] = cycles
    assert cycle.severity == "error"
    assert set(cycle.related) == {"b", "c", "bc", "cb"}
    assert cycle.node_id == "b"
    assert "'b', 'c'" in cycle.message
    waiting = graph(
        [step("a"), step("b")],
        [edge("ab", "a", "b", "time_delay", days=1), edge("ba", "b", "a")],
        start="a",
    )
    assert validate(waiting, builtin_registry) == []
    self_loop = graph([step("a"), step("b", "end")], [edge("aa", "a", "a"), edge("ab", "a", "b")])
    found = [i for i in validate(self_loop, builtin_registry) if i.code == "cycle_without_wait"]
    assert found == [] or found[0].related == ("a", "aa")


def test_self_loop(builtin_registry):
    g = graph(
        [step("a"), step("b", "end")], [edge("aa", "a", "a"), edge("ab", "a", "b")], start="a"
    )
    [cycle] = [i for i in validate(g, builtin_registry) if i.code == "cycle_without_wait"]
    assert cycle.related == ("a", "aa")


def test_decision_checks(builtin_registry):
    g = graph(
        [step("d", "decision"), step("y", "end"), step("n", "end"), step("w")],
        [
            edge("yes", "d", "y", "condition", expression="contact.custom.booked"),
            edge("later", "d", "n", "time_delay", days=1),
            edge("stray", "w", "y", "otherwise"),
            edge("dw", "d", "w", "condition", expression="false"),
        ],
        start="d",
    )
    found = codes(validate(g, builtin_registry))
    assert ("decision_without_otherwise", "d", None, None) in found
    assert ("ignored_by_decision", None, "later", "trigger") in found
    assert ("otherwise_outside_decision", None, "stray", "trigger") in found


def test_terminal_edges_and_handles(builtin_registry):
    g = graph(
        [step("a"), step("z", "end"), step("b")],
        [edge("az", "a", "z"), edge("zb", "z", "b"), edge("bz", "b", "z", handle="left")],
        start="a",
    )
    found = codes(validate(g, builtin_registry))
    assert ("edge_from_terminal", None, "zb", "source") in found
    # wait has no declared handles: any handle is fine there.
    assert not any(c[0] == "unknown_handle" for c in found)


def test_cel_syntax_and_unknown_variables(builtin_registry):
    g = graph(
        [step("d", "decision"), step("y", "end"), step("n", "end")],
        [
            edge("bad", "d", "y", "condition", expression="contact.custom.booked =="),
            edge("typo", "d", "y", "condition", expression="contct.custom.booked", priority=1),
            edge(
                "macro",
                "d",
                "y",
                "condition",
                expression="contact.partners.exists(p, p.email != null)",
                priority=2,
            ),
            edge("else", "d", "n", "otherwise"),
        ],
        entry=EntryCriteria(event_type="form.submitted", filter="event.payload.form ="),
        exits=(ExitCriteria(event_type="x", filter="size(", name="broken"),),
        start="d",
    )
    found = codes(validate(g, builtin_registry))
    assert found == {
        ("cel_syntax", None, "bad", "config.expression"),
        ("cel_unknown_variable", None, "typo", "config.expression"),
        ("cel_syntax", None, None, "settings.entry.filter"),
        ("cel_syntax", None, None, "settings.exits[0].filter"),
    }
    bad = next(i for i in validate(g, builtin_registry) if i.edge_id == "bad")
    assert "does not compile" in bad.message


def test_settings_problems(builtin_registry):
    g = graph(
        [step("a", "end")],
        [],
        entry=EntryCriteria(event_type=None, filter="true", manual=False),
        exits=(ExitCriteria(event_type=""),),
        max_transitions=0,
    )
    found = codes(validate(g, builtin_registry))
    assert found == {
        ("invalid_settings", None, None, "settings.max_transitions"),
        ("invalid_settings", None, None, "settings.entry.event_type"),
        ("no_entry", None, None, "settings.entry"),
        ("invalid_settings", None, None, "settings.exits[0].event_type"),
    }


def test_compile_raises_with_every_issue_and_checks_timezone(builtin_registry):
    g = graph([step("a", "teleport"), step("b")], [edge("ab", "a", "b")])
    with pytest.raises(InvalidJourney) as caught:
        compile_journey(g, builtin_registry, journey_id="j", version=1)
    assert [i.code for i in caught.value.errors] == ["unknown_node_type"]
    assert "dead_end" in {i.code for i in caught.value.issues}
    assert "unknown node type 'teleport'" in str(caught.value)
    ok = graph([step("a", "end")], [])
    with pytest.raises(InvalidJourney, match="studio timezone 'Moon/Base'"):
        compile_journey(
            ok, builtin_registry, journey_id="j", version=1, studio_timezone="Moon/Base"
        )
    warned = graph([step("a", "email", subject="s", text="t")], [])
    journey = compile_journey(warned, builtin_registry, journey_id="j", version=1)
    assert [i.code for i in journey.warnings] == ["dead_end"]


def test_unknown_handle_on_a_node_with_fixed_handles(builtin_registry):
    from dataclasses import replace
    from types import MappingProxyType

    from aisle.contracts.nodes import NodeType, Stay

    forked = NodeType(name="approve", on_enter=lambda ctx: Stay(), handles=("yes", "no"))
    registry = replace(
        builtin_registry,
        node_types=MappingProxyType({**builtin_registry.node_types, "approve": forked}),
    )
    g = graph(
        [step("a", "approve"), step("b", "end")],
        [
            edge("ok", "a", "b", "manual", handle="yes"),
            edge("odd", "a", "b", "manual", handle="maybe"),
        ],
    )
    [issue] = validate(g, registry)
    assert (issue.code, issue.edge_id, issue.field) == ("unknown_handle", "odd", "source_handle")
    assert "yes, no" in issue.message
