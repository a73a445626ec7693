"""How Tave's JSON objects become :class:`aisle.ExternalRecord` fields and back.

Fields keep the document's names. Nested objects are flattened into dotted names
(``cellPhone.e164``, ``location.address.name``) so that a field mapping names one
scalar; pushing unflattens them again. Lists (``customFields``, ``externalMappings``)
stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["flatten", "timestamp", "unflatten"]


def flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"cellPhone": {"e164": "+1…"}}`` → ``{"cellPhone.e164": "+1…"}``."""
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if name == "links":
            continue  # hypertext links to the API itself, not data about the couple
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{key}."))
        else:
            flat[key] = value
    return flat


def unflatten(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`: dotted names become nested objects."""
    nested: dict[str, Any] = {}
    for name, value in fields.items():
        *parents, leaf = name.split(".")
        target = nested
        for parent in parents:
            child = target.get(parent)
            if not isinstance(child, dict):
                child = target[parent] = {}
            target = child
        target[leaf] = value
    return nested


def timestamp(value: Any) -> datetime | None:
    """A ServerTimestamp (``2020-08-01T17:32:32Z``, always UTC) or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
