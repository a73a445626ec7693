"""The ``webhook`` executor: a JSON POST signed per Standard Webhooks.

Headers: ``webhook-id`` (the run's idempotency key, the same on every retry, so the
receiver can drop duplicates), ``webhook-timestamp`` (seconds since the epoch at this
attempt) and ``webhook-signature``. The body is ``{"type", "timestamp", "data"}``.

Outcomes: 2xx succeeds; 408, 425, 429, 5xx, timeouts and network errors retry,
honouring ``Retry-After``; 410 Gone disables the endpoint (remembered, so later runs to
the same URL fail at once without a request); redirects are not followed and, like
other 4xx, fail without retry. The destination passes :func:`aisle.http_client`'s SSRF guard.

The signing secret is the studio's own (``webhook_secret``, set through the studio
settings API and stored encrypted, read through ``ActionServices.studio_secret``), else
the operator's ``AISLE_WEBHOOK_SECRET`` (comma-separated while rotating). An action has
no secret of its own: journey configs are stored and shown in clear. Publishing a
journey with a webhook step and neither secret is refused (:func:`check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import httpx
import msgspec

from aisle import (
    ActionContext,
    ActionExecutor,
    ActionResult,
    CheckContext,
    ConfigProblem,
    DestinationRefused,
    PermanentError,
    http_client,
)
from aisle_actions.configs import decode_config
from aisle_actions.http_errors import error_for_exception, error_for_status
from aisle_actions.signing import decode_secret, sign

__all__ = [
    "EXECUTOR",
    "STUDIO_SECRET",
    "USER_AGENT",
    "WebhookConfig",
    "check",
    "endpoint_key",
    "execute",
    "payload",
]

NAME = "webhook"
STUDIO_SECRET = "webhook_secret"  # noqa: S105 (the name of the studio secret, not one)
# What the studio's settings hold of its secret: storage mirrors only the fingerprint.
_STUDIO_SECRET_SET = "webhook_secret_fingerprint"  # noqa: S105 (a studio setting's name)
USER_AGENT = "Aisle-Webhooks/0.1"
_RESERVED = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "host",
        "user-agent",
        "transfer-encoding",
        "connection",
    }
)


class WebhookConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A webhook action.

    ``event`` is the payload's ``type``; ``payload`` is merged into its ``data`` next
    to the contact (unless ``include_contact`` is false). ``headers`` are extra request
    headers; the signing headers cannot be overridden. ``timeout_seconds`` bounds the
    whole request. The fields are the ``webhook`` node's, which plans this action.
    """

    url: str = ""
    event: str = "journey.step"
    payload: dict[str, Any] = {}
    include_contact: bool = True
    headers: dict[str, str] = {}
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=50)] = 10.0


def endpoint_key(url: str) -> str:
    """The key under which a disabled endpoint is remembered."""
    return f"disabled:{httpx.URL(url)}"


def _check_url(url: str) -> httpx.URL:
    if not url:
        raise PermanentError("webhook config field 'url': a URL is required")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise PermanentError(f"webhook config field 'url': {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PermanentError(f"webhook config field 'url': {url!r} is not an http(s) URL")
    return parsed


async def _secrets(ctx: ActionContext) -> list[str]:
    """The studio's secret, else the operator's (several while rotating)."""
    studio = await ctx.services.studio_secret(STUDIO_SECRET)
    if studio:
        chosen, source = [studio], "studio setting 'webhook_secret'"
    else:
        setting = ctx.services.setting("webhook_secret") or ""
        chosen = [s.strip() for s in setting.split(",") if s.strip()]
        source = "setting AISLE_WEBHOOK_SECRET"
    if not chosen:
        raise PermanentError(
            "webhook: no signing secret; the studio sets its "
            "webhook_secret (PATCH /api/v1/settings) or the operator sets AISLE_WEBHOOK_SECRET"
        )
    for secret in chosen:
        try:
            decode_secret(secret)
        except ValueError as exc:
            raise PermanentError(f"webhook {source}: the secret {exc}") from None
    return chosen


def check(config: Any, context: CheckContext) -> list[ConfigProblem]:
    """Publishing refuses a webhook step no run could sign (the problem names
    ``secret``: the signing secret the step needs, which the studio provides)."""
    studio = context.studio
    if studio.get(_STUDIO_SECRET_SET):
        return []
    if context.setting("webhook_secret"):
        return []
    return [
        ConfigProblem(
            field="secret",
            code="missing_secret",
            message="no webhook signing secret: the studio sets its webhook_secret "
            "(PATCH /api/v1/settings) or the operator sets AISLE_WEBHOOK_SECRET",
        )
    ]


def _contact(contact: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "id",
        "email",
        "phone",
        "names",
        "partners",
        "wedding_date",
        "venue",
        "timezone",
        "custom",
        "external_ids",
    )
    return {k: contact[k] for k in keep if k in contact}


def payload(config: WebhookConfig, ctx: ActionContext) -> dict[str, Any]:
    """The JSON body of one attempt."""
    data: dict[str, Any] = {"action_run_id": ctx.run_id}
    if config.include_contact:
        data["contact"] = _contact(ctx.contact)
    data.update(config.payload)
    return {"type": config.event, "timestamp": ctx.now.isoformat(), "data": data}


def _headers(config: WebhookConfig) -> dict[str, str]:
    clash = sorted(h for h in config.headers if h.lower() in _RESERVED)
    if clash:
        raise PermanentError(
            f"webhook config field 'headers': {', '.join(clash)} cannot be set by the config"
        )
    return dict(config.headers)


async def execute(ctx: ActionContext) -> ActionResult:
    """Deliver one webhook attempt; the ``webhook-id`` is the run's idempotency key."""
    config = decode_config(ctx.config, WebhookConfig, NAME)
    url = _check_url(config.url)
    services = ctx.services
    disabled = await services.recall(endpoint_key(config.url))
    if disabled is not None:
        raise PermanentError(
            f"webhook endpoint {url.host} is disabled: it answered 410 Gone at "
            f"{disabled.get('at')}; point the action at a new URL"
        )
    signing_secrets = await _secrets(ctx)
    extra = _headers(config)
    body = msgspec.json.encode(payload(config, ctx))
    timestamp = int(ctx.now.timestamp())
    headers = {
        **extra,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": ctx.idempotency_key,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(signing_secrets, ctx.idempotency_key, timestamp, body),
    }
    what = f"webhook endpoint {url.host}"
    async with http_client(
        timeout=config.timeout_seconds,
        allow=services.setting("http_allow"),
        hosts=services.setting("http_hosts"),
    ) as client:
        try:
            response = await client.post(url, content=body, headers=headers)
        except (httpx.HTTPError, DestinationRefused) as exc:
            error = error_for_exception(exc, what)
            raise (error or exc) from None
    if response.status_code == 410:
        await services.remember(
            endpoint_key(config.url), {"at": _iso(ctx.now), "run_id": ctx.run_id, "status": 410}
        )
        raise PermanentError(f"{what} answered 410 Gone; the endpoint is now disabled")
    failure = error_for_status(response, what, ctx.now)
    if failure is not None:
        raise failure
    return ActionResult(
        detail={
            "webhook_id": ctx.idempotency_key,
            "status": response.status_code,
            "attempt": ctx.attempt,
        }
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat()


EXECUTOR = ActionExecutor(
    name=NAME,
    label="Call webhook",
    description="POST a signed JSON payload (Standard Webhooks) to a URL.",
    execute=execute,
    config=WebhookConfig,
    check=check,
    max_attempts=8,
    timeout_seconds=60.0,
)
