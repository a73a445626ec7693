"""Field mapping: remote records to Aisle contact fields, validated, and back again.

A connection's ``field_mapping`` maps Aisle fields (``email``, ``wedding_date``,
``partners.0.first_name``, ``custom.package``) to remote names. A plain remote name is
a field of the contacts kind (the provider's first pull kind); ``"<kind>.<field>"``
names a field of another pulled kind, applied to the contacts the record links to.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from aisle.domain.addresses import InvalidAddress, normalize_email, normalize_phone
from aisle.domain.contact import Contact, Partner

__all__ = [
    "InvalidRecord",
    "KindMapping",
    "MappingError",
    "apply_values",
    "check_field",
    "contact_value",
    "content_hash",
    "extract",
    "split_mapping",
]

_PLAIN = ("email", "phone", "wedding_date", "venue", "timezone")
_PARTNER = re.compile(r"^partners\.(\d)\.(first_name|last_name|email|phone)$")
_CUSTOM = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]*$")

KindMapping = dict[str, str]
"""Aisle field → remote field, for one kind."""


class MappingError(ValueError):
    """A field mapping names a field Aisle does not have; ``field`` is the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class InvalidRecord(ValueError):
    """A remote record whose value cannot be stored; ``field`` is the Aisle field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_field(name: str) -> None:
    """:raises MappingError: unless ``name`` is an Aisle contact field a CRM may set."""
    if name in _PLAIN or _PARTNER.match(name) or _CUSTOM.match(name):
        return
    raise MappingError(
        name,
        "not a contact field (email, phone, wedding_date, venue, timezone, "
        "partners.<n>.first_name|last_name|email|phone, custom.<name>)",
    )


def split_mapping(mapping: Mapping[str, str], pull_kinds: Sequence[str]) -> dict[str, KindMapping]:
    """The mapping per pulled kind (the first kind holds the plain remote names)."""
    contacts_kind = pull_kinds[0] if pull_kinds else "contacts"
    others = set(pull_kinds[1:])
    per_kind: dict[str, KindMapping] = {kind: {} for kind in pull_kinds or (contacts_kind,)}
    for aisle_field, remote in mapping.items():
        kind, _, rest = remote.partition(".")
        if rest and kind in others:
            per_kind[kind][aisle_field] = rest
        else:
            per_kind[contacts_kind][aisle_field] = remote
    return per_kind


def _lookup(fields: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    if path in fields:
        return True, fields[path]
    value: Any = fields
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def extract(fields: Mapping[str, Any], mapping: KindMapping, region: str | None) -> dict[str, Any]:
    """The mapped fields ``fields`` holds, validated and normalised (absent ones are
    left out; an empty value clears the field). :raises InvalidRecord: on the first
    value that cannot be stored."""
    values: dict[str, Any] = {}
    for aisle_field, remote in mapping.items():
        found, raw = _lookup(fields, remote)
        if found:
            values[aisle_field] = _normalise(aisle_field, raw, region)
    return values


def _normalise(field: str, raw: Any, region: str | None) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "" if field.endswith(("first_name", "last_name")) else None
    if field.startswith("custom."):
        return msgspec.to_builtins(raw)
    if not isinstance(raw, str | date):
        raise InvalidRecord(field, f"expected text, got {type(raw).__name__}")
    try:
        if field == "wedding_date":
            return _date(field, raw)
        if field == "timezone":
            ZoneInfo(str(raw))
            return str(raw)
        if field.endswith("email"):
            return normalize_email(str(raw).strip(), field)
        if field.endswith("phone"):
            return normalize_phone(str(raw), region, field)
    except InvalidAddress as exc:
        raise InvalidRecord(field, exc.reason) from None
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRecord(field, f"{raw!r} is not an IANA time zone") from None
    return str(raw).strip()


def _date(field: str, raw: str | date) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = raw.strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InvalidRecord(field, f"{raw!r} is not a date (YYYY-MM-DD)") from None


def content_hash(values: Mapping[str, Any]) -> str:
    """A hash of what a record maps to: equal hashes mean nothing to write."""
    encoded = msgspec.json.encode(dict(sorted(values.items())))
    return hashlib.sha256(encoded).hexdigest()[:32]


def contact_value(contact: Contact, field: str) -> Any:
    """``field`` of ``contact`` as :func:`extract` gives values (dates as ISO text)."""
    partner = _PARTNER.match(field)
    if partner:
        index, name = int(partner.group(1)), partner.group(2)
        if index >= len(contact.partners):
            return "" if name.endswith("_name") else None
        return getattr(contact.partners[index], name)
    if field.startswith("custom."):
        return contact.custom.get(field.removeprefix("custom."))
    if field == "wedding_date":
        return contact.wedding_date.isoformat() if contact.wedding_date else None
    return getattr(contact, field)


def apply_values(contact: Contact, values: Mapping[str, Any]) -> Contact:
    """``contact`` with ``values`` (as :func:`extract` returns them) set."""
    changes: dict[str, Any] = {}
    partners = list(contact.partners)
    custom = dict(contact.custom)
    for field, value in values.items():
        partner = _PARTNER.match(field)
        if partner:
            index, name = int(partner.group(1)), partner.group(2)
            while len(partners) <= index:
                partners.append(Partner())
            partners[index] = msgspec.structs.replace(partners[index], **{name: value})
        elif field.startswith("custom."):
            key = field.removeprefix("custom.")
            if value is None:
                custom.pop(key, None)
            else:
                custom[key] = value
        elif field == "wedding_date":
            changes[field] = date.fromisoformat(value) if value else None
        else:
            changes[field] = value
    return msgspec.structs.replace(contact, partners=tuple(partners), custom=custom, **changes)
