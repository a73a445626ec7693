"""Studio settings: timezone, send window, email templates, default sender and the
webhook signing secret. Every role reads them; only owners change them.

The webhook secret is write-only: it is stored encrypted with the operator's credential
key and answered as ``webhook_secret_set`` and a fingerprint, never echoed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, get, patch
from litestar.params import JSONBody

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.domain.organization import WEBHOOK_SECRET, EmailTemplate, Organization
from aisle.services.studio_settings import SendWindowIn, SettingsPatch, StudioSettings

__all__ = ["SettingsController", "StudioSettingsOut"]


class StudioSettingsOut(msgspec.Struct, kw_only=True):
    organization_id: str
    slug: str
    name: str
    timezone: str
    send_window: SendWindowIn | None
    email_templates: dict[str, EmailTemplate]
    default_sender: str | None
    country: str | None
    webhook_secret_set: bool
    webhook_secret_fingerprint: str | None
    """A short hash telling which secret is set (``sha256:…``); never the secret."""
    webhook_secret_updated_at: datetime | None


def _window_out(raw: Any) -> SendWindowIn | None:
    if not raw:
        return None
    try:
        return msgspec.convert(raw, SendWindowIn)
    except msgspec.ValidationError:
        return None  # set by hand in the database; the worker ignores it too


def _templates_out(raw: Any) -> dict[str, EmailTemplate]:
    try:
        return msgspec.convert(raw or {}, dict[str, EmailTemplate])
    except msgspec.ValidationError:
        return {}


async def settings_out(call: ApiCall, org: Organization) -> StudioSettingsOut:
    secret = await call.scope.secrets.describe(WEBHOOK_SECRET)
    sender = org.settings.get("default_sender")
    country = org.settings.get("country")
    return StudioSettingsOut(
        organization_id=org.id,
        slug=org.slug,
        name=org.name,
        timezone=org.timezone,
        send_window=_window_out(org.settings.get("send_window")),
        email_templates=_templates_out(org.settings.get("email_templates")),
        default_sender=sender if isinstance(sender, str) else None,
        country=country if isinstance(country, str) else None,
        webhook_secret_set=secret is not None,
        webhook_secret_fingerprint=secret.fingerprint if secret else None,
        webhook_secret_updated_at=secret.updated_at if secret else None,
    )


class SettingsController(Controller):
    path = "/settings"
    tags = ["settings"]

    @get("/", summary="Read the studio's settings")
    async def get_settings(self, call: Call) -> StudioSettingsOut:
        org = await call.store.organizations.get(call.caller.organization_id)
        return await settings_out(call, org)

    @patch("/", summary="Change the studio's settings (owners)")
    async def patch_settings(self, call: Call, data: JSONBody[SettingsPatch]) -> StudioSettingsOut:
        studio = StudioSettings(call.runtime, call.scope, call.caller, settings=call.ctx.settings)
        return await settings_out(call, await studio.change(data))
