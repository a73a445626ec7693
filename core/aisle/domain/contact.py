"""The couple a studio works with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import msgspec

__all__ = ["Contact", "Partner", "merge_custom"]


class Partner(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    phone: str | None = None


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """A client record. ``external_ids`` maps CRM provider name to its id there."""

    id: str = ""
    partners: tuple[Partner, ...] = ()
    email: str | None = None
    phone: str | None = None
    wedding_date: date | None = None
    venue: str | None = None
    timezone: str | None = None
    custom: dict[str, Any] = {}
    external_ids: dict[str, str] = {}

    def activation(self) -> dict[str, Any]:
        """The contact as CEL conditions and templates see it (``contact.*``)."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        data["wedding_date"] = self.wedding_date.isoformat() if self.wedding_date else None
        data["names"] = " & ".join(p.first_name for p in self.partners if p.first_name)
        return data


def merge_custom(old: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` custom fields with ``patch`` applied: a ``None`` value removes its key."""
    custom = dict(old)
    for key, value in patch.items():
        if value is None:
            custom.pop(key, None)
        else:
            custom[key] = value
    return custom
