"""The email executor against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actions.conftest import MakeContext, planned
from actions.smtp_server import FROM, make_certificate, smtp_server
from aisle import PermanentError, RetryableError
from aisle.testing.samples import SAMPLE_NOW
from aisle.testing.services import RecordingServices
from aisle_actions import mail

EMAIL_NODE = {
    "to": "couple",
    "subject": "{{ couple }}: {{ wedding.days_until }} days to go",
    "text": "Dear {{ partner1.first_name }},\nsee you at {{ venue }} on {{ wedding_date }}.\n",
    "html": "<p>Dear {{ partner1.first_name }}, see you on <b>{{ wedding_date }}</b></p>",
}


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.fixture
def config(contact: dict[str, Any]) -> Any:
    return planned("email", EMAIL_NODE, contact)


async def test_the_server_receives_the_rendered_message(
    make_context: MakeContext, action_settings: dict[str, str], config: Any
) -> None:
    with smtp_server() as box:
        action_settings.update(box.settings())
        result = await mail.execute(make_context(config, "enr-1:1:step-1:main", now=SAMPLE_NOW))
    (received,) = box.messages
    message = received.message
    assert received.sender == "hello@goldenhour.example"
    assert received.recipients == ["ada@example.com", "charles@example.com"]
    assert message["To"] == "ada@example.com, charles@example.com"
    assert message["From"] == FROM
    assert message["Subject"] == "Ada & Charles: 194 days to go"
    expected_id = mail.message_id("enr-1:1:step-1:main", "hello@goldenhour.example")
    assert message["Message-ID"] == expected_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == (
        "Dear Ada,\nsee you at The Assembly Rooms, Bath on Saturday 12 September 2026.\n"
    )
    assert "<b>Saturday 12 September 2026</b>" in html.get_content()
    assert result.detail["message_id"] == message["Message-ID"]
    assert result.detail["refused"] == {}


async def test_message_id_is_stable_per_key_and_distinct_across_keys() -> None:
    one = mail.message_id("run-a", "x@studio.example")
    assert one == mail.message_id("run-a", "x@studio.example")
    assert one != mail.message_id("run-b", "x@studio.example")
    assert one.startswith("<aisle.") and one.endswith("@studio.example>")


async def test_a_repeated_run_is_not_sent_twice(
    make_context: MakeContext, action_settings: dict[str, str], config: Any
) -> None:
    with smtp_server() as box:
        action_settings.update(box.settings())
        first = await mail.execute(make_context(config, "run-twice", attempt=1))
        second = await mail.execute(make_context(config, "run-twice", attempt=2))
        await mail.execute(make_context(config, "run-other"))
    assert len(box.messages) == 2
    assert second.detail["deduplicated"] is True
    assert second.detail["message_id"] == first.detail["message_id"]


async def test_starttls_with_login(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    certificate: tuple[Path, Path],
) -> None:
    with smtp_server(certificate=certificate, mode="starttls", auth=("studio", "s3cret")) as box:
        action_settings.update(box.settings())
        action_settings.update(
            SMTP_STARTTLS="true",
            SMTP_USERNAME="studio",
            SMTP_PASSWORD="s3cret",
            SMTP_CA_FILE=str(certificate[0]),
        )
        await mail.execute(make_context(config))
    assert len(box.messages) == 1
    assert box.logins == ["studio"]


# aiosmtpd cannot tell an implicit-TLS session is encrypted, so AUTH is allowed without
# its STARTTLS and it warns; the connection is TLS all the same.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_implicit_tls_with_login(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    certificate: tuple[Path, Path],
) -> None:
    with smtp_server(certificate=certificate, mode="tls", auth=("studio", "s3cret")) as box:
        action_settings.update(box.settings())
        action_settings.update(
            SMTP_TLS="true",
            SMTP_USERNAME="studio",
            SMTP_PASSWORD="s3cret",
            SMTP_CA_FILE=str(certificate[0]),
        )
        await mail.execute(make_context(config))
    assert len(box.messages) == 1


async def test_an_untrusted_certificate_is_not_accepted(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    certificate: tuple[Path, Path],
) -> None:
    with smtp_server(certificate=certificate, mode="starttls") as box:
        action_settings.update(box.settings(), SMTP_STARTTLS="true")
        with pytest.raises((RetryableError, PermanentError)):
            await mail.execute(make_context(config))
    assert box.messages == []


async def test_wrong_password_is_permanent_and_not_echoed(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    certificate: tuple[Path, Path],
) -> None:
    with smtp_server(certificate=certificate, mode="starttls", auth=("studio", "right")) as box:
        action_settings.update(box.settings())
        action_settings.update(
            SMTP_STARTTLS="true",
            SMTP_USERNAME="studio",
            SMTP_PASSWORD="wrong-password-xyz",
            SMTP_CA_FILE=str(certificate[0]),
        )
        with pytest.raises(PermanentError, match="rejected the login") as info:
            await mail.execute(make_context(config))
    assert "wrong-password-xyz" not in str(info.value)
    assert box.messages == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 no such mailbox", PermanentError), ("451 4.3.0 try again later", RetryableError)],
)
async def test_refused_recipients_are_classified(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    reply: str,
    error: type[Exception],
) -> None:
    with smtp_server() as box:
        box.rcpt_reply = reply
        action_settings.update(box.settings())
        with pytest.raises(error, match=reply.split()[0]):
            await mail.execute(make_context(config))


async def test_server_down_is_retryable(
    make_context: MakeContext, action_settings: dict[str, str], config: Any
) -> None:
    with smtp_server() as box:
        settings = box.settings()
    action_settings.update(settings)  # the server has stopped: nothing listens there now
    with pytest.raises(RetryableError, match="unreachable"):
        await mail.execute(make_context(config))


@pytest.mark.parametrize("where", ["production", "capture off"])
async def test_missing_smtp_host_is_a_clear_permanent_error(
    make_context: MakeContext,
    action_services: RecordingServices,
    action_settings: dict[str, str],
    config: Any,
    where: str,
) -> None:
    # Without a host the embedded default captures (tests/actions/test_capture.py).
    if where == "production":
        action_services.production = True
    else:
        action_settings["CAPTURE_MESSAGES"] = "off"
    with pytest.raises(PermanentError, match="AISLE_SMTP_HOST"):
        await mail.execute(make_context(config))
    assert action_services.messages == []


async def test_a_template_reaching_for_internals_fails_and_nothing_is_sent(
    make_context: MakeContext, action_settings: dict[str, str], contact: dict[str, Any]
) -> None:
    bad = planned("email", {**EMAIL_NODE, "html": "{{ couple.__class__.__mro__ }}"}, contact)
    with smtp_server() as box:
        action_settings.update(box.settings())
        with pytest.raises(PermanentError, match="template field 'html'"):
            await mail.execute(make_context(bad))
    assert box.messages == []


async def test_vendor_recipient_from_the_node(
    make_context: MakeContext, action_settings: dict[str, str], contact: dict[str, Any]
) -> None:
    config = planned(
        "email",
        {**EMAIL_NODE, "to": "vendor", "vendor_email": "florist@flowers.example"},
        contact,
    )
    with smtp_server() as box:
        action_settings.update(box.settings())
        await mail.execute(make_context(config))
    assert box.messages[0].recipients == ["florist@flowers.example"]


async def test_saved_studio_template(
    make_context: MakeContext,
    action_settings: dict[str, str],
    contact: dict[str, Any],
    studio: dict[str, Any],
) -> None:
    studio["settings"] = {
        "email_templates": {
            "questionnaire": {"subject": "Questions for {{ couple }}", "text": "Hi {{ couple }}"}
        }
    }
    config = planned("email", {"to": "partner2", "template_id": "questionnaire"}, contact)
    with smtp_server() as box:
        action_settings.update(box.settings())
        await mail.execute(make_context(config))
    (received,) = box.messages
    assert received.recipients == ["charles@example.com"]
    assert received.message["Subject"] == "Questions for Ada & Charles"
    missing = planned("email", {"to": "couple", "template_id": "nope"}, contact)
    with pytest.raises(PermanentError, match=r"template_id.*'nope'"):
        await mail.execute(make_context(missing, "run-missing-template"))


async def test_the_studio_default_sender_comes_before_the_operators(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    studio: dict[str, Any],
) -> None:
    # Set through PATCH /api/v1/settings; executors see studio settings at the top level.
    studio["default_sender"] = "Golden Hour Studio <studio@goldenhour.example>"
    with smtp_server() as box:
        action_settings.update(box.settings())
        await mail.execute(make_context(config, "run-studio-sender"))
    (received,) = box.messages
    assert received.sender == "studio@goldenhour.example"
    assert received.message["From"] == "Golden Hour Studio <studio@goldenhour.example>"


def test_preview_renders_without_sending(contact: dict[str, Any], studio: dict[str, Any]) -> None:
    from aisle.plugins.manager import load_registry

    executor = load_registry().action_executors["email"]
    assert executor.preview is not None and executor.messaging
    shown = executor.preview(planned("email", EMAIL_NODE, contact), contact, studio)
    assert shown["to"] == ["ada@example.com", "charles@example.com"]
    assert "days to go" in shown["subject"]
    assert shown["text"].startswith("Dear Ada,")
    with pytest.raises(PermanentError, match="template field 'subject'"):
        executor.preview({**EMAIL_NODE, "subject": "{{ nope }}"}, contact, studio)


def test_bad_config_names_the_field(contact: dict[str, Any], studio: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match=r"email config field 'cc'"):
        mail.preview({**EMAIL_NODE, "cc": "not-a-list"}, contact, studio)
    with pytest.raises(PermanentError, match=r"field 'cc': 'nobody' is not an email address"):
        mail.preview({**EMAIL_NODE, "cc": ["nobody"]}, contact, studio)


async def test_no_recipient_for_the_contact_is_permanent(
    make_context: MakeContext, action_settings: dict[str, str]
) -> None:
    services = RecordingServices(settings=action_settings)
    context = make_context(
        {**EMAIL_NODE, "to": "partner2"}, contact={"partners": []}, services=services.for_run("x")
    )
    action_settings.update(SMTP_HOST="127.0.0.1", SMTP_FROM=FROM)
    with pytest.raises(PermanentError, match="field 'to'"):
        await mail.execute(context)


@pytest.mark.parametrize(
    ("sender_settings", "changes", "where"),
    [
        ({"SMTP_FROM": "not an address"}, {}, "AISLE_SMTP_FROM"),
        ({}, {"from_address": "Evil <a@b.example>\r\nBcc: victim@x.example"}, "from_address"),
    ],
)
async def test_bad_senders_are_refused_before_connecting(
    make_context: MakeContext,
    action_settings: dict[str, str],
    config: Any,
    sender_settings: dict[str, str],
    changes: dict[str, str],
    where: str,
) -> None:
    with smtp_server() as box:
        action_settings.update(box.settings(), **sender_settings)
        with pytest.raises(PermanentError, match=where):
            await mail.execute(make_context({**config, **changes}))
    assert box.messages == []
