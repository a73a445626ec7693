"""Every built-in node and trigger type passes the conformance suites plugin authors use.

The tables below give each built-in type a valid config (and, for triggers that listen
to events, an event that makes them fire). A built-in type without an entry fails
``test_every_builtin_is_covered``, so a new one cannot skip the suite.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from aisle.builtins.nodes import NODE_TYPES
from aisle.builtins.triggers import TRIGGER_TYPES
from aisle.contracts.events import EventView
from aisle.contracts.nodes import NodeType
from aisle.contracts.triggers import TriggerType
from aisle.testing import EDGE, SOURCE, ConfigCase, NodeTypeSuite, TriggerTypeSuite

NODE_CONFIGS: dict[str, dict[str, Any]] = {
    "vendor_action": {
        "vendor_type": "florist",
        "title": "Confirm the bouquet",
        "due": {"relative_to": "wedding_date", "days": -14},
    },
    "client_action": {
        "title": "Fill in the questionnaire",
        "form_id": "questionnaire",
        "partner_approval_required": True,
        "due": {"relative_to": "now", "days": 7},
    },
    "decision": {"question": "Booked?"},
    "email": {"subject": "Hello {{ contact.names }}", "text": "Our brochure is attached."},
    "sms": {"body": "See you on the big day!"},
    "payment": {"amount": "500.00", "currency": "EUR", "description": "deposit"},
    "webhook": {"url": "https://hooks.example.com/aisle", "payload": {"stage": "booked"}},
    "crm_update": {"fields": {"custom.stage": "booked"}},
    "wait": {},
    "end": {"outcome": "booked"},
}

NODE_INVALID: dict[str, list[ConfigCase]] = {
    "email": [
        ConfigCase({"subject": "Hi"}, "text"),
        ConfigCase({"to": "vendor", "subject": "Hi", "text": "Hello"}, "vendor_email"),
    ],
    "sms": [ConfigCase({"body": "Hi", "to": "vendor"}, "vendor_phone")],
    "payment": [
        ConfigCase({"amount": "five hundred", "currency": "EUR"}, "amount"),
        ConfigCase({"amount": "500", "currency": "euro"}, "currency"),
    ],
    "webhook": [ConfigCase({"url": "ftp://example.com"}, "url")],
    "end": [ConfigCase({"outcome": "Not A Name"}, "outcome")],
}

TRIGGER_CONFIGS: dict[str, dict[str, Any]] = {
    "immediate": {},
    "time_delay": {"days": 3, "hours": 2},
    "date_reached": {"days": -30, "at": "10:00", "zone": "contact"},
    "form_submission": {"form_id": "enquiry"},
    "payment_received": {"min_amount": "250.00", "currency": "EUR"},
    "task_completed": {},
    "manual": {"button": "Move on"},
    "condition": {"expression": "contact.custom.guests > 100"},
    "otherwise": {},
}

# What each event-driven trigger must fire on (besides its type): the payload.
TRIGGER_EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "form_submission": ("form.submitted", {"form_id": "enquiry"}),
    "payment_received": ("payment.received", {"amount": "500.00", "currency": "EUR"}),
    "task_completed": ("task.completed", {"step_id": SOURCE}),
    "manual": ("manual.triggered", {"edge_id": EDGE}),
}

TRIGGER_INVALID: dict[str, list[ConfigCase]] = {
    "date_reached": [
        ConfigCase({"zone": "Mars/Olympus_Mons"}, "zone"),
        ConfigCase({"at": "25:00"}, "at"),
        ConfigCase({"field": "birthday"}, "field"),
    ],
    "payment_received": [ConfigCase({"currency": "eur"}, "currency")],
    "condition": [ConfigCase({"expression": ""}, "expression")],
}


def test_every_builtin_is_covered() -> None:
    assert {n.name for n in NODE_TYPES} == set(NODE_CONFIGS)
    assert {t.name for t in TRIGGER_TYPES} == set(TRIGGER_CONFIGS)


class TestBuiltinNodeTypes(NodeTypeSuite):
    @pytest.fixture(params=NODE_TYPES, ids=lambda node: node.name)
    def node_type(self, request: pytest.FixtureRequest) -> NodeType:
        node: NodeType = request.param
        return node

    @pytest.fixture
    def valid_config(self, node_type: NodeType) -> dict[str, Any]:
        return NODE_CONFIGS[node_type.name]

    @pytest.fixture
    def invalid_configs(self, node_type: NodeType) -> list[ConfigCase]:
        return NODE_INVALID.get(node_type.name, [])


class TestBuiltinTriggerTypes(TriggerTypeSuite):
    @pytest.fixture(params=TRIGGER_TYPES, ids=lambda trigger: trigger.name)
    def trigger_type(self, request: pytest.FixtureRequest) -> TriggerType:
        trigger: TriggerType = request.param
        return trigger

    @pytest.fixture
    def valid_config(self, trigger_type: TriggerType) -> dict[str, Any]:
        return TRIGGER_CONFIGS[trigger_type.name]

    @pytest.fixture
    def invalid_configs(self, trigger_type: TriggerType) -> list[ConfigCase]:
        return TRIGGER_INVALID.get(trigger_type.name, [])

    @pytest.fixture
    def source_node_type(self, trigger_type: TriggerType) -> str:
        return "decision" if trigger_type.name == "otherwise" else "wait"

    @pytest.fixture
    def matching_event(self, trigger_type: TriggerType, entered_at: datetime) -> EventView | None:
        if trigger_type.name not in TRIGGER_EVENTS:
            return None
        event_type, payload = TRIGGER_EVENTS[trigger_type.name]
        return EventView(
            type=event_type, payload=payload, occurred_at=entered_at + timedelta(hours=1), id="e1"
        )
