"""A studio (organization) and its settings: the unit every row is scoped to."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Annotated, Any

import msgspec

__all__ = [
    "SLUG_PATTERN",
    "WEBHOOK_SECRET",
    "EmailTemplate",
    "Organization",
    "Slug",
    "secret_fingerprint",
    "webhook_secret_key",
]

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
"""A studio's slug: lowercase letters, digits and inner hyphens, up to 63 characters."""

Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN, min_length=1, max_length=63)]

WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 (the name of a studio secret, not one)
"""The studio secret webhooks are signed with (set through the settings API, encrypted)."""


class Organization(msgspec.Struct, frozen=True, kw_only=True):
    """A studio. Every other row belongs to exactly one organization.

    ``settings`` holds studio preferences the engine and executors read:
    ``send_window`` (quiet hours), ``email_templates`` (named, by ``template_id``),
    ``default_sender`` and ``studio_name``. Secrets are not settings: they live
    encrypted in ``studio_secrets`` and reach executors only through
    ``ActionServices.studio_secret``.
    """

    id: str
    slug: str
    name: str
    timezone: str = "UTC"
    settings: dict[str, Any] = {}
    created_at: datetime | None = None


class EmailTemplate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A saved email an ``email`` step names by ``template_id``; its parts fill the
    step's empty ones. Each part is a sandboxed Jinja template over the wedding context."""

    subject: Annotated[str, msgspec.Meta(max_length=500)] = ""
    text: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    html: Annotated[str, msgspec.Meta(max_length=200_000)] = ""


def webhook_secret_key(secret: str) -> bytes:
    """The key bytes of a Standard Webhooks secret (``whsec_`` + base64, prefix optional).

    :raises ValueError: not base64, or fewer than 16 bytes.
    """
    encoded = secret.strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not a whsec_ secret (base64 after the prefix)") from None
    if len(key) < 16:
        raise ValueError("is too short: use at least 16 random bytes (24 recommended)")
    return key


def secret_fingerprint(secret: str) -> str:
    """A short, non-reversible name for a secret, to tell which one is set."""
    return "sha256:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:16]


def studio_view(org: Organization) -> dict[str, Any]:
    """The organization as executors and templates see it (``studio.*``)."""
    settings = dict(org.settings)
    return {
        **settings,
        "id": org.id,
        "slug": org.slug,
        "name": settings.get("studio_name") or org.name,
        "timezone": org.timezone,
    }
