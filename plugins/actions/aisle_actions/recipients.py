"""Who a message goes to, by name: the ``to`` field the email and SMS actions share.

``couple`` is every partner's address (else the contact's own), ``partner1`` /
``partner2`` one partner's, ``contact`` the contact's own, ``vendor`` the vendor
address the action carries; anything else is taken literally. A string is read as a
comma-separated list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["named_recipients"]


def named_recipients(
    to: str | list[str],
    contact: Mapping[str, Any],
    channel: Literal["email", "phone"],
    vendor: str | None,
) -> list[str]:
    """The addresses (emails or phone numbers) ``to`` names, in order, unchecked and
    possibly repeated; empty when the contact has none of them."""
    partners = [p for p in contact.get("partners") or () if isinstance(p, Mapping)]
    found: list[str] = []
    items = to.split(",") if isinstance(to, str) else to
    for item in (i.strip() for i in items if i.strip()):
        if item == "vendor":
            found.extend([vendor] if vendor else [])
        elif item == "couple":
            own = [str(p[channel]) for p in partners if p.get(channel)]
            found.extend(own or ([str(contact[channel])] if contact.get(channel) else []))
        elif item in ("partner1", "partner2"):
            index = 0 if item == "partner1" else 1
            if len(partners) > index and partners[index].get(channel):
                found.append(str(partners[index][channel]))
        elif item == "contact":
            if contact.get(channel):
                found.append(str(contact[channel]))
        else:
            found.append(item)
    return found
