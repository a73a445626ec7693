"""A message goes to the contact as it is when it is sent, not as it was when the step
ran: retrying a run after correcting the contact reaches the corrected address (issue
11, item 6). The step's snapshot of whom it addressed stands in only without a contact."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from actions.conftest import MakeContext, planned
from actions.smtp_server import smtp_server
from aisle.testing.http_server import HTTPReceiver, Reply
from aisle_actions import mail, sms

CREATED = Reply(201, {"Content-Type": "application/json"}, b'{"sid": "SM1"}')


async def test_a_retried_sms_texts_the_corrected_number(
    http_receiver: HTTPReceiver,
    action_settings: dict[str, str],
    make_context: MakeContext,
    contact: dict[str, Any],
) -> None:
    http_receiver.default = CREATED
    action_settings.update(
        SMS_BASE_URL=http_receiver.url,
        SMS_ACCOUNT_SID="AC1",
        SMS_AUTH_TOKEN="t",
        SMS_FROM="+44 7400 123456",
    )
    contact["phone"] = "+447911000001"  # mistyped when the step ran
    config = planned("sms", {"body": "Hello", "to": "couple"}, contact)
    assert config["recipients"] == ["+447911000001"]

    contact["phone"] = "+447911123456"  # corrected before the retry
    await sms.execute(make_context(config, "enr-1:1:text:main", attempt=2))
    (request,) = http_receiver.requests
    assert parse_qs(request.body.decode())["To"] == ["+447911123456"]


async def test_a_retried_email_goes_to_the_corrected_address(
    action_settings: dict[str, str], make_context: MakeContext, contact: dict[str, Any]
) -> None:
    contact["partners"] = [{"first_name": "Ada", "email": "ada@gmial.com"}]
    config = planned("email", {"subject": "Hi", "text": "Hello", "to": "partner1"}, contact)
    assert config["recipients"] == ["ada@gmial.com"]

    contact["partners"] = [{"first_name": "Ada", "email": "ada@gmail.com"}]
    with smtp_server() as box:
        action_settings.update(box.settings())
        await mail.execute(make_context(config, "enr-1:1:mail:main", attempt=2))
    assert [m.recipients for m in box.messages] == [["ada@gmail.com"]]


async def test_the_vendor_and_a_run_without_a_contact_still_get_their_message(
    action_settings: dict[str, str], make_context: MakeContext, contact: dict[str, Any]
) -> None:
    vendor = planned(
        "email",
        {"subject": "Hi", "text": "x", "to": "vendor", "vendor_email": "florist@flowers.example"},
        contact,
    )
    snapshot_only = {"subject": "Hi", "text": "x", "recipients": ["planner@example.com"]}
    with smtp_server() as box:
        action_settings.update(box.settings())
        await mail.execute(make_context(vendor, "vendor"))
        await mail.execute(make_context(snapshot_only, "no-contact", contact={}))
    assert [m.recipients for m in box.messages] == [
        ["florist@flowers.example"],
        ["planner@example.com"],
    ]
