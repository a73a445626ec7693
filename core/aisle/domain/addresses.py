"""Email addresses and phone numbers, checked and normalised the one way every door uses.

The contacts API, CRM sync and the message executors all go through these functions,
so an address accepted into a contact is one the email and SMS actions can send to.
Pure: ``email-validator`` without its DNS check, ``phonenumbers``' own metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import email_validator
import msgspec
import phonenumbers

from aisle.domain.contact import Contact, Partner

__all__ = [
    "InvalidAddress",
    "normalize_contact",
    "normalize_email",
    "normalize_phone",
    "phone_region",
]


class InvalidAddress(ValueError):
    """An email address or phone number that cannot be used; ``str()`` starts with the
    field (``partners[0].email: …``), ``reason`` is the rest."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def normalize_email(raw: str, field: str = "email") -> str:
    """``raw`` as the address to store and send to (domain lower-cased, IDNA decoded).

    Syntax only: no DNS lookup, so it is quick and gives the same answer offline.
    :raises InvalidAddress: naming ``field``.
    """
    try:
        checked = email_validator.validate_email(raw, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InvalidAddress(field, f"{raw!r} is not an email address: {exc}") from None
    return str(checked.normalized)


def normalize_phone(raw: str, default_region: str | None, field: str = "phone") -> str:
    """``raw`` as an E.164 number (``+447911123456``).

    ``default_region`` (ISO 3166 alpha-2, e.g. ``GB``) reads numbers written without a
    country code. A number must be a valid one in its country's numbering plan (the
    ``+44 7700 900xxx`` range kept for drama is not). :raises InvalidAddress: naming
    ``field``.
    """
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        hint = (
            ""
            if region or raw.strip().startswith("+")
            else " (no country code and no default region)"
        )
        raise InvalidAddress(field, f"{raw!r} is not a phone number{hint}: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidAddress(field, f"{raw!r} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_region(studio_settings: Mapping[str, Any], operator_default: str | None) -> str | None:
    """The region numbers without a country code are read in: the studio's
    ``sms_default_region`` or ``country`` setting, else the operator's
    ``AISLE_SMS_DEFAULT_REGION``."""
    for key in ("sms_default_region", "country"):
        value = studio_settings.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return operator_default or None


def normalize_contact(
    contact: Contact, default_region: str | None
) -> tuple[Contact, list[InvalidAddress]]:
    """The contact with every email and phone normalised, and what could not be.

    A value that does not check is left as it was and reported (its field named as the
    API names it: ``email``, ``phone``, ``partners[1].email`` …); a caller refuses the
    contact (the API) or keeps what it can and reports the rest (a CRM sync).
    """
    problems: list[InvalidAddress] = []

    def email(value: str | None, field: str) -> str | None:
        if value is None:
            return None
        try:
            return normalize_email(value, field)
        except InvalidAddress as exc:
            problems.append(exc)
            return value

    def phone(value: str | None, field: str) -> str | None:
        if value is None:
            return None
        try:
            return normalize_phone(value, default_region, field)
        except InvalidAddress as exc:
            problems.append(exc)
            return value

    partners: list[Partner] = []
    for i, p in enumerate(contact.partners):
        partners.append(
            msgspec.structs.replace(
                p,
                email=email(p.email, f"partners[{i}].email"),
                phone=phone(p.phone, f"partners[{i}].phone"),
            )
        )
    normalized = msgspec.structs.replace(
        contact,
        partners=tuple(partners),
        email=email(contact.email, "email"),
        phone=phone(contact.phone, "phone"),
    )
    return normalized, problems
