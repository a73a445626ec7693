"""The ``sms`` executor: a templated text message through an HTTP SMS provider.

The request is Twilio's (a form POST to ``/2010-04-01/Accounts/{sid}/Messages.json``
with HTTP basic auth), which most SMS providers also accept. Operator settings:
``AISLE_SMS_BASE_URL`` (default ``https://api.twilio.com``), ``AISLE_SMS_ACCOUNT_SID``,
``AISLE_SMS_AUTH_TOKEN``, ``AISLE_SMS_FROM`` (a number, or a messaging service id
``MG…``), ``AISLE_SMS_DEFAULT_REGION`` (reads numbers written without a country code).

Each request carries an ``Idempotency-Key``: the run's key, suffixed with
``:<number>`` when the message goes to several numbers (each message needs a key of
its own), and a recipient the provider accepted is remembered, so a retry only sends to the
recipients still owed a message.

Without an account (SID and token) the embedded default captures each message instead
of sending it (``AISLE_CAPTURE_MESSAGES``, see :meth:`~aisle.ActionServices.captures`),
for the studio's Messages list; sent messages are recorded there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from aisle import (
    ActionContext,
    ActionExecutor,
    ActionResult,
    CheckContext,
    ConfigProblem,
    DestinationRefused,
    OutgoingMessage,
    PermanentError,
    http_client,
    normalize_phone,
    run_bounded,
)
from aisle_actions.configs import decode_config
from aisle_actions.http_errors import error_for_exception, error_for_status
from aisle_actions.recipients import named_recipients
from aisle_actions.segments import measure
from aisle_actions.templates import render
from aisle_actions.wedding_context import wedding_context

__all__ = ["EXECUTOR", "SmsConfig", "check", "execute", "preview"]

NAME = "sms"
DEFAULT_BASE_URL = "https://api.twilio.com"


class SmsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An SMS action. ``body`` is a sandboxed Jinja template over the wedding context.

    ``to`` is resolved when the message is sent, against the contact as it is then
    (the body is rendered from it too): ``couple`` (every partner's phone, else the
    contact's), ``partner1``, ``partner2``, ``contact``, ``vendor`` (``vendor_phone``)
    or literal numbers, comma-separated. ``recipients``, the numbers the step
    addressed when it ran, stand in only for a run without a contact. ``max_segments``
    refuses a message that would be billed as more segments than that.
    """

    body: str = ""
    to: str | list[str] = "couple"
    recipients: list[str] = []
    vendor_phone: str | None = None
    default_region: str | None = None
    from_number: str | None = None
    max_segments: int = 10


def _recipients(config: SmsConfig, contact: Mapping[str, Any], region: str | None) -> list[str]:
    # Resolved now, not from the step's snapshot: a run retried after its contact was
    # corrected texts the corrected number.
    found = named_recipients(config.to, contact, "phone", config.vendor_phone)
    if not found and not contact:
        found = list(config.recipients)
    if not found:
        raise PermanentError(f"sms config field 'to': {config.to!r} names no phone number")
    try:
        return list(dict.fromkeys(normalize_phone(raw, region, "to") for raw in found))
    except ValueError as exc:
        raise PermanentError(f"sms config field {exc}") from None


def _render(
    config: SmsConfig, contact: Mapping[str, Any], studio: Mapping[str, Any], now: datetime
) -> str:
    if not config.body.strip():
        raise PermanentError("sms config field 'body': a message body is required")
    text = render("body", config.body, wedding_context(contact, studio, now)).strip()
    if not text:
        raise PermanentError("sms config field 'body': the message rendered empty")
    length = measure(text)
    if length.segments > config.max_segments:
        raise PermanentError(
            f"sms config field 'body': {length.segments} segments ({length.encoding}, "
            f"{length.units} units) exceeds max_segments {config.max_segments}"
        )
    return text


def _region(config: SmsConfig, ctx: ActionContext) -> str | None:
    studio_country = ctx.studio.get("country")
    return (
        config.default_region
        or ctx.services.setting("sms_default_region")
        or (studio_country if isinstance(studio_country, str) else None)
    )


def preview(
    config: Any,
    contact: Mapping[str, Any],
    studio: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The rendered text, its recipients and its length, without sending."""
    decoded = decode_config(config, SmsConfig, NAME)
    text = _render(decoded, contact, studio, now or datetime.now(UTC))
    country = studio.get("country")
    region = decoded.default_region or (country if isinstance(country, str) else None)
    return {
        "body": text,
        "to": _recipients(decoded, contact, region),
        "length": msgspec.to_builtins(measure(text)),
    }


def check(config: Any, context: CheckContext) -> list[ConfigProblem]:
    """What stops texts from leaving here: no SMS account (unless messages are
    captured), or no sender number."""
    decoded = decode_config(config, SmsConfig, NAME)
    configured = bool(context.setting("sms_account_sid") and context.setting("sms_auth_token"))
    try:
        if context.captures(configured=configured):
            return []
    except ValueError as exc:
        return [ConfigProblem(message=str(exc), code="invalid_setting")]
    problems: list[ConfigProblem] = []
    if not configured:
        problems.append(
            ConfigProblem(
                message="no SMS provider is configured, so every text would fail: set "
                "AISLE_SMS_ACCOUNT_SID and AISLE_SMS_AUTH_TOKEN (and AISLE_SMS_FROM), or "
                "AISLE_CAPTURE_MESSAGES=on to keep texts in the Messages list without "
                "sending them",
                code="no_sms_provider",
            )
        )
    if not (decoded.from_number or context.setting("sms_from")):
        problems.append(
            ConfigProblem(message="no sender number: set AISLE_SMS_FROM", code="no_sender")
        )
    return problems


async def _capture(ctx: ActionContext, config: SmsConfig) -> ActionResult:
    """Keep one message per recipient, as it would have been sent, instead of sending."""
    text: str = await run_bounded(
        _render, config, ctx.contact, ctx.studio, ctx.now, organization=ctx.organization_id
    )
    recipients = _recipients(config, ctx.contact, _region(config, ctx))
    sender = config.from_number or ctx.services.setting("sms_from") or None
    length = msgspec.to_builtins(measure(text))
    messages: list[dict[str, Any]] = []
    for number in recipients:
        stored = await ctx.services.record_message(
            OutgoingMessage(
                channel="sms",
                status="captured",
                to=[number],
                text=text,
                sender=sender,
                key=number if len(recipients) > 1 else "main",
                detail={"length": length},
            )
        )
        messages.append({"to": number, "message": stored})
    return ActionResult(detail={"captured": True, "messages": messages, "length": length})


async def execute(ctx: ActionContext) -> ActionResult:
    """Send the message to every recipient not already sent to under this run's key (or
    capture it: no SMS account in the embedded default)."""
    config = decode_config(ctx.config, SmsConfig, NAME)
    services = ctx.services
    sid = services.setting("sms_account_sid")
    token = services.setting("sms_auth_token")
    if services.captures(configured=bool(sid and token)):
        return await _capture(ctx, config)
    sender = config.from_number or services.setting("sms_from")
    if not sid or not token:
        raise PermanentError("sms: AISLE_SMS_ACCOUNT_SID and AISLE_SMS_AUTH_TOKEN must be set")
    if not sender:
        raise PermanentError("sms: no sender; set AISLE_SMS_FROM or the config's from_number")
    # Templates are user code: rendered off the event loop, under time and memory bounds.
    text: str = await run_bounded(
        _render, config, ctx.contact, ctx.studio, ctx.now, organization=ctx.organization_id
    )
    region = _region(config, ctx)
    recipients = _recipients(config, ctx.contact, region)
    origin = "MessagingServiceSid" if sender.startswith("MG") else "From"
    if origin == "From":
        try:
            sender = normalize_phone(sender, region, "from_number")
        except ValueError as exc:
            raise PermanentError(f"sms config field {exc}") from None
    base = (services.setting("sms_base_url") or DEFAULT_BASE_URL).rstrip("/")
    url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
    messages: list[dict[str, Any]] = []
    async with http_client(
        timeout=15.0,
        allow=services.setting("http_allow"),
        hosts=services.setting("http_hosts"),
        auth=(sid, token),
    ) as client:
        for number in recipients:
            # One message per number, so each needs a key of its own when there are several.
            key = ctx.idempotency_key
            if len(recipients) > 1:
                key = f"{key}:{number}"
            earlier = await services.recall(f"sent:{key}")
            if earlier is not None:
                messages.append({**earlier, "deduplicated": True})
                continue
            try:
                response = await client.post(
                    url,
                    data={"To": number, origin: sender, "Body": text},
                    headers={"Idempotency-Key": key},
                )
            except (httpx.HTTPError, DestinationRefused) as exc:
                error = error_for_exception(exc, "SMS provider")
                raise (error or exc) from None
            failure = error_for_status(response, "SMS provider", ctx.now)
            if failure is not None:
                raise failure
            sent = _receipt(number, response)
            await services.remember(f"sent:{key}", sent)
            messages.append(sent)
            await services.record_message(
                OutgoingMessage(
                    channel="sms",
                    status="sent",
                    to=[number],
                    text=text,
                    sender=sender,
                    key=number if len(recipients) > 1 else "main",
                    detail={"sid": sent["sid"], "length": msgspec.to_builtins(measure(text))},
                )
            )
    return ActionResult(detail={"messages": messages, "length": msgspec.to_builtins(measure(text))})


def _receipt(number: str, response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    data = body if isinstance(body, dict) else {}
    return {
        "to": number,
        "sid": data.get("sid"),
        "status": data.get("status"),
        "segments": data.get("num_segments"),
    }


EXECUTOR = ActionExecutor(
    name=NAME,
    label="Send SMS",
    description="Send a templated text message through a Twilio-compatible SMS API.",
    execute=execute,
    config=SmsConfig,
    messaging=True,
    max_attempts=6,
    timeout_seconds=60.0,
    preview=preview,
    check=check,
)
