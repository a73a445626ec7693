"""Studio settings: timezone, send window, email templates, default sender and the
webhook signing secret. Every role reads them; only owners change them.

The webhook secret is write-only: it is stored encrypted with the operator's credential
key and answered as ``webhook_secret_set`` and a fingerprint, never echoed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import msgspec
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from litestar import Controller, get, patch
from litestar.params import JSONBody
from msgspec import UNSET, Meta, UnsetType
from phonenumbers import SUPPORTED_REGIONS

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.problems import FieldError, Problem, config_error
from aisle.api.roles import ensure_role
from aisle.contracts.log import LogKind
from aisle.domain.organization import (
    WEBHOOK_SECRET,
    EmailTemplate,
    Organization,
    webhook_secret_key,
)
from aisle.storage.credentials import CredentialCipher, CredentialError

__all__ = ["SettingsController", "StudioSettingsOut"]

_ZONES = frozenset(available_timezones())
_HHMM = Annotated[
    str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="24-hour time, like 08:30.")
]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TemplateName = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="What an email step's template_id names.",
    ),
]
_SENDER = re.compile(r"^(?:[^<>\r\n]{0,200}<)?[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+>?$")

# Syntax only, as the actions plugin's own check does: rendering (sandboxed, bounded,
# with the wedding context and its filters) happens in the plugin when a message goes.
_TEXT = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
_HTML = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, autoescape=True)


Country = Annotated[
    str, Meta(pattern=r"^[A-Z]{2}$", description="An ISO 3166 country code (GB, US, …).")
]


class SendWindowIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Quiet hours: messages go out from ``start`` to ``end`` (local time) on ``days``.

    ``end`` before ``start`` is an overnight window; ``timezone`` defaults to the
    studio's.
    """

    start: _HHMM = "08:00"
    end: _HHMM = "20:00"
    days: Annotated[list[Day], Meta(min_length=1, max_length=7)] = msgspec.field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    )
    timezone: Annotated[str, Meta(max_length=100)] | None = None


class SettingsPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the fields given change; ``null`` clears one (the send window, the sender,
    the webhook secret). ``email_templates`` replaces the studio's whole set."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    timezone: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    send_window: SendWindowIn | UnsetType | None = UNSET
    email_templates: (
        Annotated[dict[TemplateName, dict[str, Any]], Meta(max_length=200)] | UnsetType
    ) = UNSET
    """Each an :class:`~aisle.domain.organization.EmailTemplate`: subject, text, html."""
    default_sender: Annotated[str, Meta(max_length=320)] | UnsetType | None = UNSET
    country: Country | UnsetType | None = UNSET
    """Where the studio works (ISO 3166 code): phone numbers written without a country
    code are read as this country's."""
    webhook_secret: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    """A Standard Webhooks secret (``whsec_`` + base64 of at least 16 bytes); write-only."""


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


def _invalid(errors: list[FieldError]) -> Problem:
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return Problem(422, detail, slug="validation", title="Invalid request", errors=errors)


def _templates(raw: dict[str, dict[str, Any]]) -> tuple[dict[str, EmailTemplate], list[FieldError]]:
    """Decode and parse each template; errors name ``email_templates.<name>.<part>``."""
    templates: dict[str, EmailTemplate] = {}
    errors: list[FieldError] = []
    for name, fields in raw.items():
        where = f"email_templates.{name}"
        try:
            template = msgspec.convert(fields, EmailTemplate)
        except msgspec.ValidationError as exc:
            error = config_error(exc, where)
            errors.append(FieldError(message=error.message, field=error.field))
            continue
        templates[name] = template
        if not (template.subject or template.text or template.html):
            errors.append(
                FieldError(message="a template needs a subject, text or html", field=where)
            )
        for part in ("subject", "text", "html"):
            try:
                (_HTML if part == "html" else _TEXT).parse(getattr(template, part))
            except TemplateSyntaxError as exc:
                errors.append(
                    FieldError(
                        message=f"line {exc.lineno}: {exc.message}",
                        field=f"{where}.{part}",
                        code="template_syntax",
                    )
                )
    return templates, errors


def _check(data: SettingsPatch) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(data.timezone, UnsetType) and data.timezone not in _ZONES:
        errors.append(
            FieldError(
                message=f"{data.timezone!r} is not an IANA timezone (e.g. Europe/London)",
                field="timezone",
            )
        )
    window = data.send_window
    zone = window.timezone if isinstance(window, SendWindowIn) else None
    if zone is not None and zone not in _ZONES:
        errors.append(
            FieldError(
                message=f"{zone!r} is not an IANA timezone (e.g. Europe/London)",
                field="send_window.timezone",
            )
        )
    if isinstance(data.email_templates, dict):
        errors.extend(_templates(data.email_templates)[1])
    if isinstance(data.default_sender, str) and not _SENDER.match(data.default_sender.strip()):
        errors.append(
            FieldError(
                message=f"{data.default_sender!r} is not an address like "
                "'Golden Hour <hello@goldenhour.example>'",
                field="default_sender",
            )
        )
    if isinstance(data.country, str) and data.country not in SUPPORTED_REGIONS:
        errors.append(
            FieldError(
                message=f"{data.country!r} is not a country phone numbers are known for",
                field="country",
            )
        )
    if isinstance(data.webhook_secret, str):
        try:
            webhook_secret_key(data.webhook_secret)
        except ValueError as exc:
            # The message says what is wrong with it, never what it was.
            errors.append(FieldError(message=f"the secret {exc}", field="webhook_secret"))
    return errors


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
        ensure_role(call.caller, "owner", "changing studio settings")
        errors = _check(data)
        if errors:
            raise _invalid(errors)
        store = call.store
        org_id = call.caller.organization_id
        cipher = None
        if not isinstance(data.webhook_secret, UnsetType):
            try:
                cipher = CredentialCipher.from_settings(call.ctx.settings)
            except CredentialError as exc:
                raise Problem(503, f"webhook_secret cannot be stored: {exc}") from None
        changed = [f for f in SettingsPatch.__struct_fields__ if getattr(data, f) is not UNSET]
        async with store.transaction():
            org = await store.organizations.get(org_id)
            settings = dict(org.settings)
            if not isinstance(data.send_window, UnsetType):
                _put(settings, "send_window", _window_in(data.send_window))
            if not isinstance(data.email_templates, UnsetType):
                templates, _ = _templates(data.email_templates)
                _put(settings, "email_templates", msgspec.to_builtins(templates) or None)
            if not isinstance(data.default_sender, UnsetType):
                _put(
                    settings,
                    "default_sender",
                    data.default_sender.strip() if data.default_sender else None,
                )
            if not isinstance(data.country, UnsetType):
                _put(settings, "country", data.country)
            org = await store.organizations.update(
                org_id,
                name=None if isinstance(data.name, UnsetType) else data.name,
                timezone=None if isinstance(data.timezone, UnsetType) else data.timezone,
                settings=settings,
            )
            if cipher is not None and not isinstance(data.webhook_secret, UnsetType):
                await call.scope.secrets.put(WEBHOOK_SECRET, data.webhook_secret, cipher)
                org = await store.organizations.get(org_id)
            await call.scope.log.append(
                LogKind.SETTINGS_CHANGED,
                actor=call.caller.actor,
                message=f"studio settings changed: {', '.join(changed) or 'nothing'}",
                data={"fields": changed},
            )
        # This process sees the change at once; other processes' caches expire on their own.
        call.runtime.forget_organization(org_id)
        return await settings_out(call, org)


def _window_in(window: SendWindowIn | None) -> dict[str, Any] | None:
    if window is None:
        return None
    stored: dict[str, Any] = msgspec.to_builtins(window)
    if window.timezone is None:
        stored.pop("timezone", None)  # the worker then takes the studio's
    return stored


def _put(settings: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        settings.pop(key, None)
    else:
        settings[key] = value
