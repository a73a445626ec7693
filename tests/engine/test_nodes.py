"""Every built-in node type: its schema, its label, and what it does on entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from aisle.builtins import nodes as N
from aisle.builtins.nodes import NODE_TYPES
from aisle.contracts.nodes import Advance, Complete, EdgeView, Fail, NodeContext, NodeType, Stay
from aisle.engine.validation import decode_config

from .graphs import T0, contact


def enter(
    node: NodeType,
    config: dict[str, Any],
    *,
    person: dict[str, Any] | None = None,
    outgoing: tuple[EdgeView, ...] = (),
    truths: frozenset[str] = frozenset(),
    studio: str = "UTC",
) -> Any:
    return node.on_enter(
        NodeContext(
            node_id="n1",
            label="",
            config=decode_config(node.config, config),
            now=T0,
            contact=person if person is not None else contact().activation(),
            variables={},
            event=None,
            outgoing=outgoing,
            evaluate=lambda expression: expression in truths,
            studio_timezone=studio,
            enrollment_id="en1",
            visit=1,
        )
    )


def only_action(outcome: Any) -> tuple[str, dict[str, Any]]:
    assert isinstance(outcome, Stay)
    [request] = outcome.actions
    return request.executor, dict(request.config)


@pytest.mark.parametrize("node", NODE_TYPES, ids=lambda n: n.name)
def test_every_node_type_is_documented_and_has_a_valid_schema(node: NodeType):
    assert node.label
    assert node.description
    assert node.icon
    assert node.category in {"task", "logic", "message", "flow", "integration"}
    schema = msgspec.json.schema(node.config)
    assert schema["$defs"][node.config.__name__]["additionalProperties"] is False
    for name in node.context_fields:
        assert name in node.config.__struct_fields__, (node.name, name)


def test_vendor_action_creates_a_vendor_task_due_before_the_wedding():
    executor, config = only_action(
        enter(
            N.VENDOR_ACTION,
            {
                "vendor_type": "florist",
                "title": "Confirm bouquet",
                "instructions": "Peonies",
                "priority": "high",
                "due": {"relative_to": "wedding_date", "days": -14, "at": "12:00"},
            },
            person=contact(wedding=date(2026, 6, 20), tz="Europe/London").activation(),
        )
    )
    assert executor == "task"
    assert config == {
        "title": "Confirm bouquet",
        "assignee": "vendor",
        "due_at": "2026-06-06T11:00:00+00:00",
        "required_approvals": 1,
        "details": {
            "kind": "vendor_action",
            "vendor_type": "florist",
            "instructions": "Peonies",
            "priority": "high",
        },
    }


def test_vendor_action_schema():
    with pytest.raises(msgspec.ValidationError, match="vendor_type"):
        decode_config(N.VENDOR_ACTION.config, {"vendor_type": "juggler", "title": "x"})
    with pytest.raises(msgspec.ValidationError, match="title"):
        decode_config(N.VENDOR_ACTION.config, {"vendor_type": "dj", "title": ""})
    with pytest.raises(msgspec.ValidationError, match="priority"):
        decode_config(N.VENDOR_ACTION.config, {"vendor_type": "dj", "title": "x", "priority": "!"})


def test_due_without_wedding_date_is_none_and_relative_to_now_counts_from_entry():
    _, config = only_action(
        enter(
            N.VENDOR_ACTION,
            {"vendor_type": "dj", "title": "Playlist", "due": {"relative_to": "wedding_date"}},
            person=contact(wedding=None).activation(),
        )
    )
    assert config["due_at"] is None
    _, config = only_action(
        enter(
            N.CLIENT_ACTION,
            {"title": "Sign contract", "due": {"days": 7, "hours": 1}},
        )
    )
    assert config["due_at"] == (T0 + timedelta(days=7, hours=1)).isoformat()


@pytest.mark.parametrize(("both", "approvals"), [(True, 2), (False, 1)])
def test_client_action_partner_approval(both: bool, approvals: int):
    executor, config = only_action(
        enter(
            N.CLIENT_ACTION,
            {"title": "Approve timeline", "form_id": "tl", "partner_approval_required": both},
        )
    )
    assert executor == "task"
    assert config["assignee"] == "client"
    assert config["required_approvals"] == approvals
    assert config["details"]["form_id"] == "tl"


def test_decision_picks_first_true_branch_else_otherwise_else_fails():
    outgoing = (
        EdgeView(id="vip", target="a", trigger="condition", config={"expression": "vip"}),
        EdgeView(id="booked", target="b", trigger="condition", config={"expression": "booked"}),
        EdgeView(id="else", target="c", trigger="otherwise", config={}),
    )
    assert enter(N.DECISION, {}, outgoing=outgoing, truths=frozenset({"booked", "vip"})) == (
        Advance(edge_id="vip")
    )
    assert enter(N.DECISION, {}, outgoing=outgoing, truths=frozenset({"booked"})) == Advance(
        edge_id="booked"
    )
    assert enter(N.DECISION, {}, outgoing=outgoing) == Advance(edge_id="else")
    by_handle = (
        outgoing[0],
        EdgeView(id="h", target="c", trigger="immediate", config={}, source_handle="otherwise"),
    )
    assert enter(N.DECISION, {}, outgoing=by_handle) == Advance(edge_id="h")
    failed = enter(N.DECISION, {}, outgoing=outgoing[:2])
    assert isinstance(failed, Fail)
    assert "decision 'n1'" in failed.reason


def test_email_resolves_recipients_and_keeps_templates():
    executor, config = only_action(
        enter(N.EMAIL, {"subject": "Hi {{ names }}", "text": "Welcome", "to": "partner2"})
    )
    assert executor == "email"
    assert config["recipients"] == ["bea@example.com"]
    assert config["subject"] == "Hi {{ names }}"
    _, vendor = only_action(
        enter(N.EMAIL, {"template_id": "t-1", "to": "vendor", "vendor_email": "v@example.com"})
    )
    assert vendor["recipients"] == ["v@example.com"]
    assert vendor["template_id"] == "t-1"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"subject": "Hi"}, "subject"),
        ({"template_id": "t", "to": "vendor"}, "vendor_email"),
        ({"template_id": "t", "to": "guests"}, "to"),
        ({"template_id": "t", "cc": "x"}, "cc"),
    ],
)
def test_email_schema(config: dict[str, Any], field: str):
    with pytest.raises(msgspec.ValidationError, match=field):
        decode_config(N.EMAIL.config, config)


def test_sms():
    executor, config = only_action(enter(N.SMS, {"body": "See you soon!", "to": "partner1"}))
    assert (executor, config["recipients"], config["body"]) == ("sms", ["+441"], "See you soon!")
    _, couple = only_action(enter(N.SMS, {"body": "Hi"}))
    assert couple["recipients"] == ["+441"]  # only one partner has a phone
    with pytest.raises(msgspec.ValidationError, match="vendor_phone"):
        decode_config(N.SMS.config, {"body": "x", "to": "vendor"})


def test_payment_asks_the_couple_to_pay():
    executor, config = only_action(
        enter(
            N.PAYMENT,
            {
                "amount": "500.00",
                "currency": "EUR",
                "due": {"relative_to": "now", "days": 14},
            },
        )
    )
    assert executor == "task"
    assert config["title"] == "Pay deposit 500.00 EUR"
    assert config["assignee"] == "client"
    assert config["due_at"] == datetime(2026, 1, 19, 10, tzinfo=UTC).isoformat()
    assert config["details"] == {
        "kind": "payment",
        "amount": "500.00",
        "currency": "EUR",
        "description": "deposit",
    }
    for bad, field in [
        ({"amount": "5,00", "currency": "EUR"}, "amount"),
        ({"amount": "5", "currency": "€"}, "currency"),
        ({"amount": "5"}, "currency"),
    ]:
        with pytest.raises(msgspec.ValidationError, match=field):
            decode_config(N.PAYMENT.config, bad)


def test_webhook_and_crm_update():
    executor, config = only_action(
        enter(N.WEBHOOK, {"url": "https://hooks.example.com/a", "payload": {"k": 1}})
    )
    assert executor == "webhook"
    assert config == {
        "url": "https://hooks.example.com/a",
        "event": "journey.step",
        "payload": {"k": 1},
        "include_contact": True,
        "headers": {},
        "timeout_seconds": 10.0,
    }
    with pytest.raises(msgspec.ValidationError, match="url"):
        decode_config(N.WEBHOOK.config, {"url": "ftp://x"})
    executor, config = only_action(enter(N.CRM_UPDATE, {"fields": {"stage": "booked"}}))
    assert (executor, config) == (
        "crm_update",
        {"provider": None, "fields": {"stage": "booked"}, "kind": "contacts"},
    )
    with pytest.raises(msgspec.ValidationError, match="fields"):
        decode_config(N.CRM_UPDATE.config, {"fields": {}})


def test_wait_and_end():
    assert enter(N.WAIT, {}) == Stay()
    assert enter(N.END, {}) == Complete(outcome="completed")
    assert enter(N.END, {"outcome": "booked"}) == Complete(outcome="booked")
    assert N.END.terminal
    with pytest.raises(msgspec.ValidationError, match="outcome"):
        decode_config(N.END.config, {"outcome": "Not Booked!"})
