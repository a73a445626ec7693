"""The checklist plugin proves itself the way every Aisle plugin does: by passing the
conformance suites. Nothing here tests its internals; the suites check the contract."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aisle_node_checklist import CHECKLIST, CHECKLIST_TICKED, TICKED

from aisle import EventView, NodeType, TriggerType
from aisle.testing import SOURCE, ConfigCase, NodeTypeSuite, TriggerTypeSuite


class TestChecklistNode(NodeTypeSuite):
    @pytest.fixture
    def node_type(self) -> NodeType:
        return CHECKLIST

    @pytest.fixture
    def valid_config(self) -> dict[str, Any]:
        return {"title": "Before the big day", "items": ["Shot list", "Timeline", "Music"]}

    @pytest.fixture
    def invalid_configs(self) -> list[ConfigCase]:
        return [
            ConfigCase({"title": "Empty", "items": []}, "items"),
            ConfigCase({"title": "Twice", "items": ["Vows", "Vows"]}, "items"),
            ConfigCase({"title": "Who?", "items": ["Cake"], "assignee": "caterer"}, "assignee"),
        ]


class TestChecklistTicked(TriggerTypeSuite):
    @pytest.fixture
    def trigger_type(self) -> TriggerType:
        return CHECKLIST_TICKED

    @pytest.fixture
    def valid_config(self) -> dict[str, Any]:
        return {"at_least": 2}

    @pytest.fixture
    def invalid_configs(self) -> list[ConfigCase]:
        return [ConfigCase({"at_least": 0}, "at_least")]

    @pytest.fixture
    def matching_event(self, entered_at: datetime) -> EventView:
        return EventView(
            type=TICKED,
            payload={"step_id": SOURCE, "done": 2, "total": 3},
            occurred_at=entered_at + timedelta(hours=1),
            id="ticked-1",
        )
