"""Condition limits: nothing over them reaches the CEL parser, whose recursion has no bound.

The inputs below crash the CEL library itself (a 20,000-selection chain overflows the
native stack: SIGSEGV; 20,000 nested calls make it panic). The checks that compile them
run in a subprocess, so a missing guard fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from aisle.contracts.events import EventView
from aisle.domain import EntryCriteria, ExitCriteria
from aisle.engine.condition_limits import (
    DEFAULT_LIMITS,
    ConditionLimits,
    configure,
    limit_violation,
    measure,
)
from aisle.engine.conditions import (
    ConditionScope,
    ConditionSyntaxError,
    ConditionTooComplex,
    ExternalProgram,
    compile_condition,
)
from aisle.engine.validation import condition_limit_issues, validate
from aisle.env import SettingsError

from .graphs import T0, contact, edge, graph, step

CHAIN = "contact" + ".a" * 20_000
PARENS = "(" * 5_000 + "true" + ")" * 5_000
LIST = "[" + ",".join(["1"] * 500_000) + "].size() > 0"  # 1 MB


@pytest.fixture
def limits() -> Iterator[None]:
    yield
    configure(DEFAULT_LIMITS)


def test_crashing_inputs_are_refused_without_being_parsed():
    script = textwrap.dedent(
        """
        import json, sys
        from aisle.engine.conditions import ConditionTooComplex, compile_condition
        out = []
        for expression in json.load(sys.stdin):
            try:
                compile_condition(expression)
                out.append("compiled")
            except ConditionTooComplex as exc:
                out.append(str(exc))
        print(json.dumps(out))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([CHAIN, PARENS, LIST]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    refusals = json.loads(done.stdout)
    assert len(refusals) == 3
    assert all("longer than 4096 bytes" in r for r in refusals), refusals


@pytest.mark.parametrize(
    ("expression", "depth"),
    [
        ("contact.custom.booked", 2),
        ("contact.custom.budget >= 2500 && contact.wedding_date == '2026-06-20'", 2),
        ("size(contact.partners) == 2", 3),
        ("contact" + ".a" * 40, 40),
        (" == ".join(["1"] * 41), 40),
        ("(" * 40 + "1" + ")" * 40, 40),
        ("[" * 40 + "]" * 40, 40),
        ("contact" + "[0]" * 20, 21),
        ("'a'" + ".size()" * 20, 41),
        ("!" * 40 + "true", 40),
        # Text inside string literals is not syntax.
        ("'((((' + \"].a.b.c\" + '''((\n.x'''", 2),
        # && and || are folded by the parser: a long chain of them stays shallow.
        (" || ".join(["contact.custom.x == 1"] * 100), 3),
    ],
)
def test_depth(expression: str, depth: int):
    assert measure(expression).depth == depth


@pytest.mark.parametrize(
    ("expression", "nesting", "count"),
    [
        ("contact.partners.exists(p, p.email == 'a@b.c')", 1, 1),
        ("[1, 2].all(x, [3].exists(y, x < y)) && [1].map(z, z).size() == 1", 2, 3),
        ("a.exists(x, b.all(y, c.filter(z, z).exists_one(w, w)))", 3, 4),
        ("'x.exists(y, y)' == vars.name", 0, 0),
        ("exists(1)", 0, 0),
    ],
)
def test_comprehensions(expression: str, nesting: int, count: int):
    shape = measure(expression)
    assert (shape.comprehension_depth, shape.comprehensions) == (nesting, count)


def test_violations_name_the_limit():
    assert limit_violation("contact.custom.booked") is None
    assert "longer than 4096 bytes" in (limit_violation("1" * 4097) or "")
    # Bytes, not characters: 2,100 two-byte letters and 8 quotes and signs are 4,208 bytes.
    assert "(4208)" in (limit_violation("'" + "é" * 2100 + "' == ''") or "")
    assert "deeper than 32 levels (33)" in (limit_violation("contact" + ".a" * 33) or "")
    assert limit_violation("contact" + ".a" * 32) is None
    nested = "[1].exists(a, [1].exists(b, [1].exists(c, true)))"
    assert "more than 2 comprehensions" in (limit_violation(nested) or "")
    assert limit_violation(nested, ConditionLimits(max_comprehension_depth=3)) is None


def test_limits_from_the_environment(limits: None):
    configured = ConditionLimits.from_environ(
        {"AISLE_CEL_MAX_LENGTH": "100", "AISLE_CEL_MAX_DEPTH": "8"}
    )
    assert configured == ConditionLimits(max_length=100, max_depth=8, max_comprehension_depth=2)
    configure(configured)
    with pytest.raises(ConditionTooComplex, match="deeper than 8"):
        compile_condition("contact" + ".a" * 9)
    with pytest.raises(SettingsError, match="AISLE_CEL_MAX_DEPTH"):
        ConditionLimits.from_environ({"AISLE_CEL_MAX_DEPTH": "0"})


def test_a_parser_panic_is_a_syntax_error(limits: None):
    # Over the default limits the parser never sees this; with them lifted, the library
    # panics (pyo3's PanicException is a BaseException) instead of reporting an error.
    configure(ConditionLimits(max_length=10**6, max_depth=10**6))
    with pytest.raises(ConditionSyntaxError, match="gave up"):
        compile_condition("size(" * 20_000 + "'a'" + ")" * 20_000)


def test_validation_reports_over_limit_conditions_without_compiling(builtin_registry):
    deep = "contact" + ".a" * 40
    g = graph(
        [step("d", "decision"), step("y", "end"), step("n", "end")],
        [
            edge("deep", "d", "y", "condition", expression=deep),
            edge("long", "d", "y", "condition", expression=CHAIN, priority=1),
            edge("ok", "d", "y", "condition", expression="contact.custom.booked", priority=2),
            edge("else", "d", "n", "otherwise"),
        ],
        entry=EntryCriteria(event_type="form.submitted", filter=PARENS),
        exits=(ExitCriteria(event_type="x", filter=LIST, name="paid"),),
        start="d",
    )
    expected = {
        ("cel_too_complex", None, "deep", "config.expression"),
        ("cel_too_complex", None, "long", "config.expression"),
        ("cel_too_complex", None, None, "settings.entry.filter"),
        ("cel_too_complex", None, None, "settings.exits[0].filter"),
    }
    issues = validate(g, builtin_registry)
    assert {(i.code, i.node_id, i.edge_id, i.field) for i in issues} >= expected
    assert all(i.severity == "error" for i in issues if i.code == "cel_too_complex")
    limited = condition_limit_issues(g, builtin_registry)
    assert {(i.code, i.node_id, i.edge_id, i.field) for i in limited} == expected
    message = next(i.message for i in limited if i.edge_id == "deep")
    assert message.startswith("edge 'deep': the condition in 'config.expression' is too complex")


class _Recording(ExternalProgram):
    def __init__(self, result: Any = True, error: Exception | None = None) -> None:
        self.result = result
        self.error = error
        self.seen: list[Mapping[str, Any]] = []

    def run(self, activation: Mapping[str, Any]) -> Any:
        self.seen.append(activation)
        if self.error is not None:
            raise self.error
        return self.result


def test_external_programs_get_the_activation_and_fail_as_false():
    event = EventView(type="paid", payload={"amount": 5}, occurred_at=T0, id="e1")
    ok, slow = _Recording(), _Recording(error=TimeoutError("over its 0.25 s budget"))
    scope = ConditionScope(
        {"ok": ok, "slow": slow}, contact(booked=True).activation(), {"n": 1}, T0
    )
    assert scope.evaluate("ok", event) is True
    assert scope.evaluate("slow", event) is False
    activation = ok.seen[0]
    assert activation["event"]["payload"] == {"amount": 5}
    assert activation["vars"] == {"n": 1}
    assert activation["contact"]["custom"] == {"booked": True}
    assert activation["now"] == T0
    assert [(e.expression, e.error) for e in scope.errors] == [
        ("slow", "TimeoutError: over its 0.25 s budget")
    ]
