"""The webhook executor against a real HTTP receiver; signatures checked independently."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from actions.conftest import MakeContext, planned
from aisle import PermanentError, RetryableError
from aisle.testing.http_server import HTTPReceiver, Reply
from aisle.testing.services import RecordingServices
from aisle_actions import webhook
from aisle_actions.signing import new_secret, sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEXT_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


@pytest.fixture(autouse=True)
def studio_secret(action_services: RecordingServices) -> None:
    """The studio's own signing secret (set through the settings API in production)."""
    action_services.studio_secrets["webhook_secret"] = SECRET


@pytest.fixture
def config(http_receiver: HTTPReceiver, contact: dict[str, Any]) -> dict[str, Any]:
    node = {"url": f"{http_receiver.url}/hooks/aisle", "event": "booking.confirmed"}
    return planned("webhook", node, contact)


async def test_delivery_verifies_with_an_independent_verifier(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any]
) -> None:
    result = await webhook.execute(make_context(config, "enr-1:3:hook:main"))
    (request,) = http_receiver.requests
    assert request.path == "/hooks/aisle"
    assert request.headers["webhook-id"] == "enr-1:3:hook:main"
    assert request.headers["content-type"] == "application/json"
    body = Webhook(SECRET).verify(request.body, dict(request.headers))
    assert body["type"] == "booking.confirmed"
    assert body["data"]["contact"]["names"] == "Ada & Charles"
    assert body["data"]["action_run_id"] == "ar_enr-1:3:hook:main"
    assert result.detail == {"webhook_id": "enr-1:3:hook:main", "status": 200, "attempt": 1}


async def test_node_payload_is_merged_into_data(
    http_receiver: HTTPReceiver, make_context: MakeContext, contact: dict[str, Any]
) -> None:
    node = {"url": http_receiver.url, "payload": {"stage": "booked"}}
    config = {**planned("webhook", node, contact), "include_contact": False}
    await webhook.execute(make_context(config))
    body = json.loads(http_receiver.requests[0].body)
    assert body["data"] == {"action_run_id": "ar_run-1", "stage": "booked"}


async def test_a_tampered_body_does_not_verify(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any]
) -> None:
    await webhook.execute(make_context(config))
    request = http_receiver.requests[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(request.body + b" ", dict(request.headers))
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(request.body, dict(request.headers))


async def test_rotation_signs_with_every_operator_secret(
    http_receiver: HTTPReceiver,
    make_context: MakeContext,
    config: dict[str, Any],
    action_services: RecordingServices,
    action_settings: dict[str, str],
) -> None:
    action_services.studio_secrets.clear()
    action_settings["WEBHOOK_SECRET"] = f"{SECRET}, {NEXT_SECRET}"
    await webhook.execute(make_context(config))
    request = http_receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, NEXT_SECRET):
        Webhook(secret).verify(request.body, dict(request.headers))


async def test_studio_and_operator_secrets(
    http_receiver: HTTPReceiver,
    make_context: MakeContext,
    config: dict[str, Any],
    action_services: RecordingServices,
    action_settings: dict[str, str],
) -> None:
    action_services.studio_secrets.clear()
    with pytest.raises(PermanentError, match=r"no signing secret.*AISLE_WEBHOOK_SECRET"):
        await webhook.execute(make_context(config, "a"))
    action_settings["WEBHOOK_SECRET"] = NEXT_SECRET
    await webhook.execute(make_context(config, "b"))
    # The studio's own wins over the operator's.
    action_services.studio_secrets["webhook_secret"] = SECRET
    await webhook.execute(make_context(config, "c"))
    first, second = http_receiver.requests
    Webhook(NEXT_SECRET).verify(first.body, dict(first.headers))
    Webhook(SECRET).verify(second.body, dict(second.headers))


async def test_a_malformed_studio_secret_is_named(
    make_context: MakeContext, config: dict[str, Any], action_services: RecordingServices
) -> None:
    action_services.studio_secrets["webhook_secret"] = "whsec_c2hvcnQ="
    with pytest.raises(PermanentError, match="'webhook_secret': the secret is too short"):
        await webhook.execute(make_context(config))


def test_signature_matches_the_specification_example() -> None:
    # The example of the Standard Webhooks specification (and its reference libraries).
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign([SECRET], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


async def test_same_webhook_id_on_every_attempt(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any]
) -> None:
    http_receiver.reply(Reply(503), times=2)
    for attempt in (1, 2):
        with pytest.raises(RetryableError, match="503"):
            await webhook.execute(make_context(config, "stable-id", attempt=attempt))
    result = await webhook.execute(make_context(config, "stable-id", attempt=3))
    assert [r.headers["webhook-id"] for r in http_receiver.requests] == ["stable-id"] * 3
    assert result.detail["attempt"] == 3


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retryable(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any], status: int
) -> None:
    http_receiver.reply(Reply(status))
    with pytest.raises(RetryableError, match=str(status)):
        await webhook.execute(make_context(config))


async def test_retry_after_in_seconds_and_as_a_date(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    http_receiver.reply(Reply(429, {"Retry-After": "120"}))
    http_receiver.reply(
        Reply(503, {"Retry-After": format_datetime(now + timedelta(minutes=5), usegmt=True)})
    )
    with pytest.raises(RetryableError) as seconds:
        await webhook.execute(make_context(config, now=now))
    with pytest.raises(RetryableError) as date:
        await webhook.execute(make_context(config, now=now))
    assert seconds.value.retry_after == 120
    assert date.value.retry_after == 300


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_client_errors_are_permanent(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any], status: int
) -> None:
    http_receiver.reply(Reply(status, {}, b"nope"))
    with pytest.raises(PermanentError, match=f"{status}.*nope"):
        await webhook.execute(make_context(config))


async def test_redirects_are_not_followed(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any]
) -> None:
    http_receiver.reply(Reply(301, {"Location": f"{http_receiver.url}/elsewhere"}))
    with pytest.raises(PermanentError, match="redirected"):
        await webhook.execute(make_context(config))
    assert len(http_receiver.requests) == 1


async def test_410_disables_the_endpoint_for_later_runs(
    http_receiver: HTTPReceiver,
    make_context: MakeContext,
    config: dict[str, Any],
    action_services: RecordingServices,
) -> None:
    http_receiver.reply(Reply(410))
    with pytest.raises(PermanentError, match="410 Gone; the endpoint is now disabled"):
        await webhook.execute(make_context(config, "first"))
    with pytest.raises(PermanentError, match="is disabled"):
        await webhook.execute(make_context(config, "second"))
    assert len(http_receiver.requests) == 1  # the second run made no request
    assert webhook.endpoint_key(config["url"]) in action_services.memory
    # An admin re-enables it by forgetting the record.
    await action_services.for_run("admin").remember(webhook.endpoint_key(config["url"]), None)
    await webhook.execute(make_context(config, "third"))
    assert len(http_receiver.requests) == 2


async def test_a_hanging_receiver_times_out_as_retryable(
    http_receiver: HTTPReceiver, make_context: MakeContext, config: dict[str, Any]
) -> None:
    http_receiver.hang()
    with pytest.raises(RetryableError, match="timed out"):
        await webhook.execute(make_context({**config, "timeout_seconds": 0.2}))


async def test_connection_refused_is_retryable(
    make_context: MakeContext, config: dict[str, Any]
) -> None:
    with HTTPReceiver() as gone:
        url = gone.url
    with pytest.raises(RetryableError, match="unreachable"):
        await webhook.execute(make_context({**config, "url": url}))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://private.hooks.test/hook",
        "http://metadata.hooks.test/hook",
        "http://loopback.hooks.test:{port}/hook",
    ],
)
async def test_private_destinations_are_refused_by_default(
    http_receiver: HTTPReceiver,
    make_context: MakeContext,
    config: dict[str, Any],
    action_settings: dict[str, str],
    url: str,
) -> None:
    # The operator allowlist is empty; names resolve through the hosts-style override,
    # so nothing is sent to a private range: the guard refuses before connecting.
    action_settings["HTTP_ALLOW"] = ""
    action_settings["HTTP_HOSTS"] = (
        "private.hooks.test=10.0.0.1,metadata.hooks.test=169.254.169.254,"
        "loopback.hooks.test=127.0.0.1"
    )
    target = url.format(port=http_receiver.url.rsplit(":", 1)[1])
    with pytest.raises(PermanentError, match="refused to connect"):
        await webhook.execute(make_context({**config, "url": target}))
    assert http_receiver.requests == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": ""}, "url"),
        ({"headers": {"Webhook-Signature": "forged"}}, "headers"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"payload": "not an object"}, "payload"),
    ],
)
async def test_bad_config_names_the_field(
    make_context: MakeContext, config: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(PermanentError, match=f"'{field}'"):
        await webhook.execute(make_context({**config, **changes}))
