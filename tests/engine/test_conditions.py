"""CEL conditions: compiling, the activation they see, and errors that count as false."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
import pytest

from aisle.contracts.cel import CelExpression
from aisle.contracts.events import EventView
from aisle.engine.conditions import (
    ConditionScope,
    ConditionSyntaxError,
    cel_fields,
    compile_condition,
    unknown_variables,
)

from .graphs import T0, contact


def scope(variables: dict[str, object] | None = None) -> ConditionScope:
    person = contact(booked=True, budget=2500).activation()
    return ConditionScope({}, person, variables or {}, T0)


EVENT = EventView(
    type="payment.received", payload={"amount": 500, "currency": "EUR"}, occurred_at=T0, id="e1"
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("contact.custom.booked", True),
        ("contact.custom.budget >= 2500 && contact.wedding_date == '2026-06-20'", True),
        ('contact.names == "Ada & Bea"', True),
        ("contact.partners.exists(p, p.email == 'bea@example.com')", True),
        ("size(contact.partners) == 2", True),
        ("event.type == 'payment.received' && event.payload.amount >= 500", True),
        ("vars.tries > 2", True),
        ('now > timestamp("2026-01-01T00:00:00Z")', True),
        ("now < timestamp('2026-01-05T09:00:00Z')", False),
        ("has(contact.custom.missing)", False),
    ],
)
def test_activation(expression: str, expected: bool):
    assert scope({"tries": 3}).evaluate(expression, EVENT) is expected


def test_event_is_null_without_one():
    s = scope()
    assert s.evaluate("event == null", None) is True
    assert s.evaluate("event.type == 'x'", None) is False
    assert len(s.errors) == 1


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("contact.custom.nope", "no such key"),
        ("contact.custom.budget + 'x' == 1", "No such overload"),
        ("1 / 0 == 1", "division by zero"),
        ("contact.custom.budget", "not a bool"),
        ("ghost", "Undefined variable"),
    ],
)
def test_errors_count_as_false_and_are_recorded(expression: str, error: str):
    s = scope()
    assert s.evaluate(expression, EVENT) is False
    [recorded] = s.errors
    assert recorded.expression == expression
    assert error in recorded.error


def test_variables_are_plain_values():
    s = scope({"when": datetime(2026, 1, 1, tzinfo=UTC), "n": 1})
    assert s.evaluate("vars.when == '2026-01-01T00:00:00Z'", None) is True
    bound = s.bind(EVENT)
    assert bound("event.payload.currency == 'EUR'") is True


def test_compile_errors_are_readable():
    with pytest.raises(ConditionSyntaxError, match="Syntax error"):
        compile_condition("contact.custom.booked ==")
    with pytest.raises(ConditionSyntaxError, match="empty"):
        compile_condition("   ")
    assert compile_condition("true") is compile_condition("true")  # compiled once


def test_unknown_variables_ignore_macro_bindings():
    program = compile_condition("contact.partners.all(p, p.first_name != '') && contct.x")
    assert unknown_variables(program, "contact.partners.all(p, p.first_name != '') && contct.x")
    expression = "contact.partners.all(p, p.first_name != '') && contct.x"
    assert unknown_variables(compile_condition(expression), expression) == ["contct"]


class Branch(msgspec.Struct):
    when: CelExpression
    label: str = ""


class Config(msgspec.Struct):
    main: CelExpression
    optional: CelExpression | None = None
    branches: list[Branch] = []
    by_name: dict[str, CelExpression] = {}
    plain: Annotated[str, msgspec.Meta(min_length=1)] = "not cel"


def test_cel_fields_walk_nested_configs():
    config = msgspec.convert(
        {
            "main": "true",
            "branches": [{"when": "vars.a"}, {"when": "vars.b", "label": "x"}],
            "by_name": {"k": "vars.c"},
        },
        Config,
    )
    assert list(cel_fields(config)) == [
        ("main", "true"),
        ("branches[0].when", "vars.a"),
        ("branches[1].when", "vars.b"),
        ("by_name.k", "vars.c"),
    ]
    with_optional = msgspec.structs.replace(config, optional="false", branches=[], by_name={})
    assert list(cel_fields(with_optional)) == [("main", "true"), ("optional", "false")]
