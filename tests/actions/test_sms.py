"""The SMS executor against a Twilio-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

import pytest

from actions.conftest import MakeContext, planned
from aisle import PermanentError, RetryableError, normalize_phone
from aisle.testing.http_server import HTTPReceiver, Reply
from aisle_actions import sms
from aisle_actions.segments import measure

SID = "AC0123456789abcdef"
TOKEN = "twilio-token-secret"
CREATED = Reply(
    201,
    {"Content-Type": "application/json"},
    b'{"sid": "SM1", "status": "queued", "num_segments": "1"}',
)


@pytest.fixture
def provider(http_receiver: HTTPReceiver, action_settings: dict[str, str]) -> HTTPReceiver:
    http_receiver.default = CREATED
    action_settings.update(
        SMS_BASE_URL=http_receiver.url,
        SMS_ACCOUNT_SID=SID,
        SMS_AUTH_TOKEN=TOKEN,
        SMS_FROM="+44 7400 123456",
    )
    return http_receiver


def form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode()).items()}


async def test_the_provider_receives_a_twilio_form(
    provider: HTTPReceiver, make_context: MakeContext, contact: dict[str, Any]
) -> None:
    config = planned(
        "sms", {"body": "Hi {{ partner1.first_name }}! {{ wedding.days_until }} days"}, contact
    )
    result = await sms.execute(make_context(config, "enr-9:2:sms:main"))
    (request,) = provider.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert request.headers["idempotency-key"] == "enr-9:2:sms:main"
    sent = form(request.body)
    assert sent["To"] == "+447911123456"
    assert sent["From"] == "+447400123456"
    assert sent["Body"].startswith("Hi Ada! ")
    assert result.detail["messages"] == [
        {"to": "+447911123456", "sid": "SM1", "status": "queued", "segments": "1"}
    ]
    assert result.detail["length"]["encoding"] == "GSM-7"
    assert result.detail["length"]["segments"] == 1


async def test_each_partner_gets_a_message_with_a_key_of_its_own(
    provider: HTTPReceiver, make_context: MakeContext, contact: dict[str, Any]
) -> None:
    contact["partners"][0]["phone"] = "07911 123456"
    contact["partners"][1]["phone"] = "+1 (202) 555-0147"
    context = make_context({"body": "Hello", "to": "couple", "default_region": "GB"}, "k")
    await sms.execute(context)
    assert [form(r.body)["To"] for r in provider.requests] == ["+447911123456", "+12025550147"]
    assert [r.headers["idempotency-key"] for r in provider.requests] == [
        "k:+447911123456",
        "k:+12025550147",
    ]
    # A retry of the same run sends nothing new: both numbers were handed over.
    again = await sms.execute(make_context(context.config, "k", attempt=2))
    assert len(provider.requests) == 2
    assert all(m["deduplicated"] for m in again.detail["messages"])


async def test_a_retry_sends_only_to_those_still_owed(
    provider: HTTPReceiver, make_context: MakeContext, contact: dict[str, Any]
) -> None:
    contact["partners"][0]["phone"] = "+447911123456"
    contact["partners"][1]["phone"] = "+447400654321"
    provider.reply(CREATED)
    provider.reply(Reply(503, {"Retry-After": "20"}))
    config = {"body": "Hello", "to": "couple"}
    with pytest.raises(RetryableError) as info:
        await sms.execute(make_context(config, "partial"))
    assert info.value.retry_after == 20
    await sms.execute(make_context(config, "partial", attempt=2))
    assert [form(r.body)["To"] for r in provider.requests] == [
        "+447911123456",
        "+447400654321",
        "+447400654321",
    ]


@pytest.mark.parametrize(
    ("reply", "error", "retry_after"),
    [
        (Reply(429, {"Retry-After": "7"}), RetryableError, 7.0),
        (Reply(500), RetryableError, None),
        (Reply(400, {}, b'{"code": 21211, "message": "Invalid To"}'), PermanentError, None),
        (Reply(401), PermanentError, None),
    ],
)
async def test_provider_errors_are_classified(
    provider: HTTPReceiver,
    make_context: MakeContext,
    reply: Reply,
    error: type[Exception],
    retry_after: float | None,
) -> None:
    provider.reply(reply)
    with pytest.raises(error) as info:
        await sms.execute(make_context({"body": "Hello", "to": "contact"}))
    assert getattr(info.value, "retry_after", None) == retry_after
    assert TOKEN not in str(info.value)


async def test_invalid_number_names_the_field(
    provider: HTTPReceiver, make_context: MakeContext
) -> None:
    with pytest.raises(PermanentError, match=r"field to: '\+44 123' is not a valid"):
        await sms.execute(make_context({"body": "Hello", "to": "+44 123"}))
    assert provider.requests == []


async def test_a_message_too_long_is_refused(
    provider: HTTPReceiver, make_context: MakeContext
) -> None:
    with pytest.raises(PermanentError, match="max_segments 2"):
        await sms.execute(make_context({"body": "x" * 400, "to": "contact", "max_segments": 2}))
    assert provider.requests == []


async def test_missing_credentials_are_a_clear_error(
    make_context: MakeContext, action_settings: dict[str, str]
) -> None:
    # Without credentials the embedded default captures (tests/actions/test_capture.py).
    action_settings["CAPTURE_MESSAGES"] = "off"
    with pytest.raises(PermanentError, match="AISLE_SMS_ACCOUNT_SID"):
        await sms.execute(make_context({"body": "Hello"}))


async def test_provider_on_a_private_address_is_refused_without_allowlist(
    provider: HTTPReceiver, make_context: MakeContext, action_settings: dict[str, str]
) -> None:
    action_settings["HTTP_ALLOW"] = ""
    with pytest.raises(PermanentError, match="loopback"):
        await sms.execute(make_context({"body": "Hello", "to": "contact"}))
    assert provider.requests == []


def test_preview_reports_length_and_recipients(
    contact: dict[str, Any], studio: dict[str, Any]
) -> None:
    shown = sms.preview({"body": "Hi {{ couple }} 🎉", "to": "contact"}, contact, studio)
    assert shown["to"] == ["+447911123456"]
    assert shown["body"] == "Hi Ada & Charles 🎉"
    assert shown["length"]["encoding"] == "UCS-2"
    assert shown["length"]["units"] == 19


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07911 123456", "GB", "+447911123456"),
        ("+44 (0)7911 123456", None, "+447911123456"),
        ("(202) 555-0147", "us", "+12025550147"),
        ("+33 6 12 34 56 78", "GB", "+33612345678"),
    ],
)
def test_numbers_are_normalized_to_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["12345", "not a number", "+999 1234", "+447700900123"])
def test_bad_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="to:"):
        normalize_phone(raw, None, "to")


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("Hello", "GSM-7", 5, 1),
        ("x" * 160, "GSM-7", 160, 1),
        ("x" * 161, "GSM-7", 161, 2),
        ("x" * 306, "GSM-7", 306, 2),
        ("x" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        # 152 septets then a two-septet € that may not be split: it starts segment two.
        ("x" * 152 + "€" + "x" * 10, "GSM-7", 164, 2),
        ("x" * 152 + "€" + "x" * 152, "GSM-7", 306, 3),
        ("Café à Paris", "GSM-7", 12, 1),
        ("Cafe ç", "UCS-2", 6, 1),  # ç is not in GSM 03.38 (only Ç is)
        ("é" * 70 + "ç", "UCS-2", 71, 2),
        ("ç" * 70, "UCS-2", 70, 1),
        ("🎉" * 35, "UCS-2", 70, 1),  # astral characters take two UTF-16 units
        ("a" * 66 + "🎉" + "a", "UCS-2", 69, 1),
        ("a" * 66 + "🎉" + "a" * 5, "UCS-2", 73, 2),
    ],
)
def test_segments(text: str, encoding: str, units: int, segments: int) -> None:
    length = measure(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)
