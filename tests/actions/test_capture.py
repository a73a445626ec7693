"""Email and SMS without a provider: captured in the embedded default, not failed
(issue 11, item 10), and the executors' publish-time checks (item 1).

On e5e9255 an email run without ``AISLE_SMTP_HOST`` went dead, and an SMS run without
an account too, wherever Aisle ran; nothing kept what would have been sent.
"""

from __future__ import annotations

from typing import Any

import pytest

from actions.conftest import MakeContext, planned
from actions.smtp_server import smtp_server
from aisle import CheckContext, PermanentError
from aisle.testing.services import RecordingServices
from aisle_actions import mail, sms

EMAIL = {
    "to": "couple",
    "subject": "Hello {{ couple }}",
    "text": "Dear {{ partner1.first_name }}, see you at {{ venue }}.",
    "html": "<p>Dear {{ partner1.first_name }}</p>",
}
HTML_ONLY = {
    "to": "couple",
    "subject": "Our brochure",
    "html": '<h1>Packages</h1><p>See <a href="https://studio.example/b">the brochure</a>.</p>'
    "<ul><li>Full day</li><li>Half day</li></ul>",
}


@pytest.fixture
def contact(contact: dict[str, Any]) -> dict[str, Any]:
    contact["phone"] = "+447911123456"
    return contact


async def test_email_without_smtp_host_is_captured_rendered(
    make_context: MakeContext, action_services: RecordingServices, contact: dict[str, Any]
) -> None:
    result = await mail.execute(make_context(planned("email", EMAIL, contact), "run-1"))
    (recorded,) = action_services.messages
    message = recorded.message
    assert (message.channel, message.status) == ("email", "captured")
    assert message.to == ["ada@example.com", "charles@example.com"]
    assert message.subject == "Hello Ada & Charles"
    assert message.text.startswith("Dear Ada, see you at The Assembly Rooms")
    assert message.html == "<p>Dear Ada</p>"
    assert result.detail["captured"] is True
    assert result.detail["message"] == recorded.id
    # A retry of the same run records nothing new.
    await mail.execute(make_context(planned("email", EMAIL, contact), "run-1", attempt=2))
    assert len(action_services.messages) == 1


async def test_html_only_mail_gets_a_text_part_captured_and_sent(
    make_context: MakeContext,
    action_services: RecordingServices,
    action_settings: dict[str, str],
    contact: dict[str, Any],
) -> None:
    config = planned("email", HTML_ONLY, contact)
    await mail.execute(make_context(config, "captured"))
    captured = action_services.messages[0].message.text
    assert "Packages" in captured and "Full day" in captured
    assert "https://studio.example/b" in captured
    assert "<" not in captured

    with smtp_server() as box:
        action_settings.update(box.settings())
        await mail.execute(make_context(config, "sent"))
    (received,) = box.messages
    assert received.message.get_content_type() == "multipart/alternative"
    text = received.message.get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n") == captured
    sent = action_services.messages[1].message
    assert (sent.status, sent.text) == ("sent", captured)
    assert sent.detail["message_id"] == received.message["Message-ID"]


async def test_capture_on_keeps_mail_even_with_a_server(
    make_context: MakeContext,
    action_services: RecordingServices,
    action_settings: dict[str, str],
    contact: dict[str, Any],
) -> None:
    with smtp_server() as box:
        action_settings.update(box.settings(), CAPTURE_MESSAGES="on")
        action_services.production = True
        await mail.execute(make_context(planned("email", EMAIL, contact)))
    assert box.messages == []
    assert [m.message.status for m in action_services.messages] == ["captured"]


async def test_a_bad_capture_setting_is_a_permanent_error(
    make_context: MakeContext, action_settings: dict[str, str], contact: dict[str, Any]
) -> None:
    action_settings["CAPTURE_MESSAGES"] = "maybe"
    with pytest.raises(PermanentError, match="AISLE_CAPTURE_MESSAGES"):
        await mail.execute(make_context(planned("email", EMAIL, contact)))


async def test_sms_without_an_account_is_captured_per_number(
    make_context: MakeContext, action_services: RecordingServices, contact: dict[str, Any]
) -> None:
    contact["partners"][0]["phone"] = "+447911123456"
    contact["partners"][1]["phone"] = "+447911223344"
    config = planned("sms", {"body": "Hi {{ couple }}!"}, contact)
    result = await sms.execute(make_context(config, "run-sms"))
    assert [(m.message.channel, m.message.status) for m in action_services.messages] == [
        ("sms", "captured"),
        ("sms", "captured"),
    ]
    assert [m.message.to for m in action_services.messages] == [
        ["+447911123456"],
        ["+447911223344"],
    ]
    assert action_services.messages[0].message.text == "Hi Ada & Charles!"
    assert result.detail["captured"] is True and len(result.detail["messages"]) == 2


@pytest.mark.parametrize(
    ("production", "environ", "codes"),
    [
        (False, {}, []),
        (True, {}, ["no_smtp_host", "no_sender"]),
        (True, {"AISLE_SMTP_HOST": "smtp.example"}, ["no_sender"]),
        (True, {"AISLE_SMTP_HOST": "smtp.example", "AISLE_SMTP_FROM": "a@b.example"}, []),
        (
            True,
            {"AISLE_SMTP_HOST": "smtp.example", "AISLE_SMTP_FROM": "nobody"},
            ["invalid_sender"],
        ),
        (True, {"AISLE_CAPTURE_MESSAGES": "on"}, []),
        (False, {"AISLE_CAPTURE_MESSAGES": "off"}, ["no_smtp_host", "no_sender"]),
        (False, {"AISLE_CAPTURE_MESSAGES": "later"}, ["invalid_setting"]),
    ],
)
def test_email_check(production: bool, environ: dict[str, str], codes: list[str]) -> None:
    context = CheckContext(production=production, environ=environ)
    assert [p.code for p in mail.check(mail.EmailConfig(subject="s", text="t"), context)] == codes


@pytest.mark.parametrize(
    ("production", "environ", "codes"),
    [
        (False, {}, []),
        (True, {}, ["no_sms_provider", "no_sender"]),
        (True, {"AISLE_SMS_ACCOUNT_SID": "AC1", "AISLE_SMS_AUTH_TOKEN": "t"}, ["no_sender"]),
        (
            True,
            {"AISLE_SMS_ACCOUNT_SID": "AC1", "AISLE_SMS_AUTH_TOKEN": "t", "AISLE_SMS_FROM": "+1"},
            [],
        ),
    ],
)
def test_sms_check(production: bool, environ: dict[str, str], codes: list[str]) -> None:
    context = CheckContext(production=production, environ=environ)
    assert [p.code for p in sms.check(sms.SmsConfig(body="Hi"), context)] == codes
