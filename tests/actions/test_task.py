"""The task executor: to-dos for vendors and the couple, created through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from actions.conftest import MakeContext, planned
from aisle import PermanentError
from aisle.testing.samples import SAMPLE_NOW
from aisle.testing.services import RecordingServices
from aisle_actions import task


async def test_vendor_to_do_due_relative_to_the_wedding(
    make_context: MakeContext, action_services: RecordingServices, contact: dict[str, Any]
) -> None:
    config = planned(
        "vendor_action",
        {
            "vendor_type": "florist",
            "title": "Confirm bouquets for {{ couple }}",
            "due": {"relative_to": "wedding_date", "days": -14, "at": "09:00"},
            "priority": "high",
        },
        contact,
    )
    result = await task.execute(make_context(config, step_id="florist-step"))
    (created,) = action_services.tasks
    assert created.title == "Confirm bouquets for Ada & Charles"
    assert created.assignee == "vendor"
    assert created.step_id == "florist-step"
    # 29 August 2026, 09:00 in London (BST) is 08:00 UTC.
    assert created.due_at == datetime(2026, 8, 29, 8, 0, tzinfo=UTC)
    assert created.details["vendor_type"] == "florist"
    assert created.details["priority"] == "high"
    assert result.detail["task_id"] == created.id
    assert result.detail["due_at"] == "2026-08-29T08:00:00+00:00"


async def test_couple_to_do_with_partner_approval_needs_two(
    make_context: MakeContext, action_services: RecordingServices, contact: dict[str, Any]
) -> None:
    config = planned(
        "client_action",
        {"title": "Approve the timeline", "partner_approval_required": True},
        contact,
    )
    await task.execute(make_context(config))
    (created,) = action_services.tasks
    assert (created.assignee, created.required_approvals, created.due_at) == ("client", 2, None)


async def test_payment_request_becomes_a_couple_task(
    make_context: MakeContext, action_services: RecordingServices, contact: dict[str, Any]
) -> None:
    config = planned(
        "payment",
        {"amount": "500.00", "currency": "EUR", "due": {"relative_to": "now", "days": 7}},
        contact,
    )
    await task.execute(make_context(config))
    (created,) = action_services.tasks
    assert created.title == "Pay deposit 500.00 EUR"
    assert created.due_at == datetime(2026, 3, 9, 10, 30, tzinfo=UTC)  # 7 days after planning


async def test_due_computed_when_the_run_executes(
    make_context: MakeContext, action_services: RecordingServices
) -> None:
    config = {"title": "Send the gallery", "assignee": "vendor", "due": {"days": 3, "hours": 2}}
    await task.execute(make_context(config, now=SAMPLE_NOW))
    assert action_services.tasks[0].due_at == datetime(2026, 3, 5, 12, 30, tzinfo=UTC)


async def test_no_wedding_date_leaves_the_task_undated_and_says_why(
    make_context: MakeContext, action_services: RecordingServices
) -> None:
    config = {"title": "Plan the day", "due": {"relative_to": "wedding_date", "days": -30}}
    result = await task.execute(make_context(config, contact={"partners": []}))
    assert result.detail["due_at"] is None
    assert "no wedding date" in action_services.tasks[0].details["due_unresolved"]


async def test_a_repeated_run_creates_one_task(
    make_context: MakeContext, action_services: RecordingServices
) -> None:
    config = {"title": "Call the venue", "assignee": "vendor"}
    first = await task.execute(make_context(config, "same", attempt=1))
    second = await task.execute(make_context(config, "same", attempt=2))
    assert len(action_services.tasks) == 1
    assert first.detail["task_id"] == second.detail["task_id"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"title": ""}, "field 'title'"),
        ({"title": "x", "assignee": "planner"}, "field 'assignee'"),
        ({"title": "x", "required_approvals": 0}, "field 'required_approvals'"),
        ({"title": "x", "due_at": "2026-01-01T10:00:00"}, "field 'due_at'"),
        ({"title": "x", "due": {"relative_to": "engagement"}}, "field 'due.relative_to'"),
        ({"title": "{{ nope }}"}, "template field 'title'"),
    ],
)
async def test_bad_config_names_the_field(
    make_context: MakeContext, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(PermanentError, match=message):
        await task.execute(make_context(config))
