"""Phone numbers: validated and normalized to E.164 with Google's libphonenumber data."""

from __future__ import annotations

import phonenumbers

__all__ = ["normalize_phone"]


def normalize_phone(raw: str, default_region: str | None, field: str = "to") -> str:
    """``raw`` as an E.164 number (``+447700900123``).

    ``default_region`` (ISO 3166 alpha-2, e.g. ``GB``) reads numbers written without a
    country code. :raises ValueError: naming ``field`` when the number is not valid.
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
        raise ValueError(f"{field}: {raw!r} is not a phone number{hint}: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{field}: {raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
