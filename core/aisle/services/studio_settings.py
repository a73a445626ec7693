"""Changing a studio's settings: timezone, send window, email templates, default sender,
country and the webhook signing secret, as one acting owner of one organization.

Every value is checked before anything is stored (each problem named by its field), and
the webhook secret is stored encrypted with the operator's credential key, never echoed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import msgspec
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from msgspec import UNSET, Meta, UnsetType
from phonenumbers import SUPPORTED_REGIONS

from aisle.contracts.log import LogKind
from aisle.domain.organization import (
    WEBHOOK_SECRET,
    EmailTemplate,
    Organization,
    webhook_secret_key,
)
from aisle.runtime import Runtime
from aisle.services.errors import FieldError, Refused, config_error
from aisle.services.roles import Actor, ensure_role
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher, CredentialError
from aisle.storage.store import OrgScope

__all__ = ["SendWindowIn", "SettingsPatch", "StudioSettings"]

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


def _invalid(errors: list[FieldError]) -> Refused:
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return Refused(422, detail, slug="validation", title="Invalid request", errors=errors)


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


def _merged(current: dict[str, Any], data: SettingsPatch) -> dict[str, Any]:
    """The studio's settings mapping with ``data``'s changes to it."""
    settings = dict(current)
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
    return settings


class StudioSettings:
    """The settings of the studio of ``scope``, changed as ``actor`` (an owner's act).

    ``settings`` are the operator's: their credential key encrypts the webhook secret.
    """

    def __init__(
        self, runtime: Runtime, scope: OrgScope, actor: Actor, *, settings: Settings
    ) -> None:
        self.runtime = runtime
        self.scope = scope
        self.actor = actor
        self.settings = settings

    async def change(self, data: SettingsPatch) -> Organization:
        """Apply ``data`` (the fields given) and log which changed; a 422 naming each
        field at fault stores nothing, and so does a secret there is no key to store."""
        ensure_role(self.actor, "owner", "changing studio settings")
        errors = _check(data)
        if errors:
            raise _invalid(errors)
        cipher = None
        if not isinstance(data.webhook_secret, UnsetType):
            try:
                cipher = CredentialCipher.from_settings(self.settings)
            except CredentialError as exc:
                raise Refused(503, f"webhook_secret cannot be stored: {exc}") from None
        changed = [f for f in SettingsPatch.__struct_fields__ if getattr(data, f) is not UNSET]
        store = self.runtime.store
        org_id = self.scope.org_id
        async with store.transaction():
            org = await store.organizations.get(org_id)
            org = await store.organizations.update(
                org_id,
                name=None if isinstance(data.name, UnsetType) else data.name,
                timezone=None if isinstance(data.timezone, UnsetType) else data.timezone,
                settings=_merged(org.settings, data),
            )
            if cipher is not None and not isinstance(data.webhook_secret, UnsetType):
                await self.scope.secrets.put(WEBHOOK_SECRET, data.webhook_secret, cipher)
                org = await store.organizations.get(org_id)
            await self.scope.log.append(
                LogKind.SETTINGS_CHANGED,
                actor=self.actor.actor,
                message=f"studio settings changed: {', '.join(changed) or 'nothing'}",
                data={"fields": changed},
            )
        # This process sees the change at once; other processes' caches expire on their own.
        self.runtime.forget_organization(org_id)
        return org
