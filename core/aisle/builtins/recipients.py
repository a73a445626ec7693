"""Who a message goes to: the couple, one partner, or a vendor, read from the contact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["Recipient", "resolve"]

Recipient = Literal["couple", "partner1", "partner2", "vendor"]


def resolve(
    contact: Mapping[str, Any],
    to: Recipient,
    channel: Literal["email", "phone"],
    vendor: str | None,
) -> list[str]:
    """Addresses (emails or phone numbers) for ``to``; empty when the contact has none.

    ``couple`` means every partner's address, else the contact's own; ``partner1`` /
    ``partner2`` the first / second partner's (the first falls back to the contact's).
    """
    if to == "vendor":
        return [vendor] if vendor else []
    partners = [p for p in contact.get("partners") or () if isinstance(p, Mapping)]
    own = contact.get(channel)
    if to == "couple":
        found = [str(p[channel]) for p in partners if p.get(channel)]
        addresses = found or ([str(own)] if own else [])
        return list(dict.fromkeys(addresses))
    index = 0 if to == "partner1" else 1
    if index < len(partners) and partners[index].get(channel):
        return [str(partners[index][channel])]
    if index == 0 and own:
        return [str(own)]
    return []
