"""Notify: a small action executor POSTing JSON to a URL, the action suite's test subject."""

from __future__ import annotations

import httpx
import msgspec

from aisle import ActionContext, ActionExecutor, ActionResult, PermanentError, RetryableError
from aisle.http import client

__all__ = ["NOTIFY", "NotifyConfig"]


class NotifyConfig(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    message: str = "Hello {names}"


async def execute(context: ActionContext) -> ActionResult:
    config: NotifyConfig = context.config
    headers = {"Idempotency-Key": context.idempotency_key}
    token = context.services.setting("NOTIFY_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"message": config.message.format(names=context.contact.get("names", ""))}
    async with client(allow=context.services.setting("HTTP_ALLOW"), timeout=5.0) as http:
        try:
            response = await http.post(config.url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise RetryableError(f"{config.url} did not answer in time") from exc
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After")
        raise RetryableError(
            f"{config.url} answered {response.status_code}",
            retry_after=float(retry_after) if retry_after else None,
        )
    if response.status_code >= 400:
        raise PermanentError(f"{config.url} refused the notification ({response.status_code})")
    return ActionResult(detail={"status": response.status_code})


NOTIFY = ActionExecutor(
    name="notify",
    label="Notify",
    execute=execute,
    config=NotifyConfig,
    timeout_seconds=10.0,
)
