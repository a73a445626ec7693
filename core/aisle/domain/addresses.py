"""Email addresses and phone numbers, checked and normalised the one way every door uses.

The contacts API, CRM sync and the message executors all go through these functions,
so an address accepted into a contact is one the email and SMS actions can send to.
Pure: ``email-validator`` without its DNS check, ``phonenumbers``' own metadata.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import email_validator
import msgspec
import phonenumbers
from email_validator.rfc_constants import ATEXT, CASE_INSENSITIVE_MAILBOX_NAMES
from phonenumbers.phonemetadata import PhoneMetadata

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


# A plain ASCII address that email-validator would take unchanged but for lower-casing
# its domain: dot-atom local part, LDH labels of at most 63 characters, a top-level label
# ending in a letter. Anything else (quotes, display names, IP literals, Unicode, IDNA
# "xn--", special-use names, lengths near the limits) goes the library's way, which keeps
# its exact answer and its error wording while skipping its ~85 µs for the common case.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_PLAIN_EMAIL = re.compile(
    rf"([{ATEXT}]{{1,64}}(?:\.[{ATEXT}]+)*)@((?:{_LABEL}\.)+{_LABEL})", re.ASCII
)
_CASE_INSENSITIVE_LOCAL = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_SPECIAL_USE_TOP_LABELS = frozenset(
    name.rsplit(".", 1)[-1] for name in email_validator.SPECIAL_USE_DOMAIN_NAMES
)


def _plain_email(raw: str) -> str | None:
    """``raw`` normalised as email-validator would, when it is a plain ASCII address;
    ``None`` when only the library can say."""
    match = _PLAIN_EMAIL.fullmatch(raw)
    if match is None or len(raw) > 254:
        return None
    local, domain = match.groups()
    # The library's local-part length check is off unless STRICT, so a long one is left
    # to it rather than to a rule that would need to know the setting.
    if len(local) > 64 or "--" in domain or not domain[-1].isalpha():
        return None
    domain = domain.lower()
    if domain.rsplit(".", 1)[-1] in _SPECIAL_USE_TOP_LABELS:
        return None
    if local.lower() in _CASE_INSENSITIVE_LOCAL:
        local = local.lower()
    return f"{local}@{domain}"


def normalize_email(raw: str, field: str = "email") -> str:
    """``raw`` as the address to store and send to (domain lower-cased, IDNA decoded).

    Syntax only: no DNS lookup, so it is quick and gives the same answer offline.
    :raises InvalidAddress: naming ``field``.
    """
    if isinstance(raw, str) and (plain := _plain_email(raw)) is not None:
        return plain
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
    e164, reason = _checked_phone(raw, region)
    if e164 is None:
        raise InvalidAddress(field, reason)
    return e164


@functools.lru_cache(maxsize=8192)
def _checked_phone(raw: str, region: str | None) -> tuple[str | None, str]:
    """(the E.164 form, "") or (None, why not): cached because a sync or an import sees
    the studio's own and its venues' numbers again and again."""
    plain = _plain_e164(raw)
    if plain is not None:
        return plain, ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        hint = (
            ""
            if region or raw.strip().startswith("+")
            else " (no country code and no default region)"
        )
        return None, f"{raw!r} is not a phone number{hint}: {exc}"
    country_code = number.country_code
    if country_code is None or not _is_valid(
        country_code, phonenumbers.national_significant_number(number)
    ):
        return None, f"{raw!r} is not a valid phone number"
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)), ""


_E164 = re.compile(r"\+([1-9][0-9]{6,14})")


def _plain_e164(raw: str) -> str | None:
    """``raw`` when it is already a valid E.164 number that ``phonenumbers.parse`` would
    keep as it is; ``None`` when only the general path can say (or it is not valid)."""
    match = _E164.fullmatch(raw)
    if match is None:
        return None
    digits = match.group(1)
    for size in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size]))
        if regions is not None:
            break
    else:
        return None
    national = digits[size:]
    # parse() would strip a national prefix or keep leading zeros apart; those numbers,
    # and the non-geographic codes, take the general path.
    if national.startswith("0") or regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    metadata = PhoneMetadata.metadata_for_region(regions[0])
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and re.match(prefix, national):
        return None
    if not _is_valid(int(digits[:size]), national):
        return None
    return raw


def _is_valid(country_code: int, national: str) -> bool:
    """``phonenumbers.is_valid_number`` for the number ``+<country_code><national>``:
    the same region choice and the same patterns, each region's number types joined
    into one pattern per length so that a check is two regex matches, not twenty."""
    region = _region_for(country_code, national)
    if region is None:
        return False
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None or (
        region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        and country_code != phonenumbers.country_code_for_valid_region(region)
    ):
        return False
    return _has_number_type(national, metadata)


def _region_for(country_code: int, national: str) -> str | None:
    """``phonenumbers.region_code_for_number``'s choice among a calling code's regions."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    if len(regions) == 1:
        return str(regions[0])
    for candidate in regions:
        metadata = PhoneMetadata.metadata_for_region(candidate.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.match(metadata.leading_digits, national):
                return str(candidate)
        elif _has_number_type(national, metadata):
            return str(candidate)
    return None


_TypePatterns = tuple["re.Pattern[str]", "re.Pattern[str]"] | None
_type_patterns: dict[tuple[str | None, int | None, int], _TypePatterns] = {}


def _has_number_type(national: str, metadata: PhoneMetadata) -> bool:
    """Whether ``phonenumbers``' number-type lookup finds a type other than UNKNOWN."""
    key = (metadata.id, metadata.country_code, len(national))
    try:
        patterns = _type_patterns[key]
    except KeyError:
        patterns = _type_patterns[key] = _patterns_for_length(metadata, len(national))
    if patterns is None:
        return False
    general, any_type = patterns
    return general.fullmatch(national) is not None and any_type.fullmatch(national) is not None


def _patterns_for_length(metadata: PhoneMetadata, length: int) -> _TypePatterns:
    def usable(desc: Any) -> str | None:
        if desc is None or not desc.national_number_pattern:
            return None
        if desc.possible_length and length not in desc.possible_length:
            return None
        return str(desc.national_number_pattern)

    general = usable(metadata.general_desc)
    if general is None:
        return None
    descs = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    # The library only looks at the mobile pattern when it differs from the fixed-line one.
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    types = [pattern for desc in descs if (pattern := usable(desc)) is not None]
    if not types:
        return None
    return re.compile(general), re.compile("|".join(f"(?:{p})" for p in types))


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
